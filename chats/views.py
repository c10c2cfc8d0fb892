"""The embedded chat window ``/chat/<site_id>/<campaign_id>/``, its loader
script, the popup's handoff page, and the window's JSON endpoints.

The JSON endpoints authenticate the window by its chat token in the
``Authorization: Bearer`` header, never by a cookie, so they work in a
third-party iframe whose cookies the browser blocks (and CSRF does not
apply: a cross-site page cannot read or attach the token).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from campaigns.models import Campaign, Visitor
from campaigns.selectors import campaign_get_active, visitor_get_by_pk
from chats.live import chat_version_current, chat_version_is
from chats.models import Chat, Message
from chats.presence import chat_typing, chat_typing_set
from chats.selectors import chat_get, chat_window_revoked, messages_after, signin_request_pending
from chats.services import (
    ChatRefusedError,
    chat_read_mark,
    chat_start,
    chat_window_sign_out,
    message_post,
    visitor_handoff_mint,
    visitor_handoff_redeem,
)
from chats.tokens import (
    ChatCredential,
    ChatTokenError,
    chat_token_chat,
    chat_token_issue,
    chat_token_read,
)
from sso_site.signin.refusals import RefusalReason
from sso_site.signin.session import principal_from_session
from tenants.inputs import InputError, ascii_int, json_read
from tenants.models import Audience, Site
from tenants.selectors import site_get_by_public_id, site_is_usable

MAX_PK = 2**63 - 1


def _site_campaign(site_id: int, campaign_id: int) -> tuple[Site, Campaign]:
    """Return the active site and its active campaign; 404 alike otherwise."""
    site = site_get_by_public_id(site_id=site_id)
    if not site_is_usable(site):
        raise Http404("No such chat window.")
    campaign = campaign_get_active(site=site, pk=campaign_id)
    if campaign is None:
        raise Http404("No such chat window.")
    campaign.site = site  # already loaded: the window's title reads its name
    return site, campaign


def gateway_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def stream_origin() -> str:
    """The push stream server's origin when it has its own, else ""."""
    value = settings.SSO_CHAT_STREAM
    return "" if value in ("", "off", "self") else value.rstrip("/")


def _stream_url(base: str) -> str:
    """The window's push stream URL (``chats.stream``), or "" when there is
    none to connect to (the window then polls at its full pace)."""
    if settings.SSO_CHAT_STREAM in ("", "off"):
        return ""
    return f"{stream_origin()}{base}api/stream/"


@never_cache
@xframe_options_exempt
@require_GET
def chat_window(request: HttpRequest, site_id: int, campaign_id: int) -> HttpResponse:
    """Serve the window, frameable only by this site's allowed origins."""
    site, campaign = _site_campaign(site_id, campaign_id)
    guest = ChatCredential(site_pk=site.pk, campaign_pk=campaign.pk, chat_pk=None, visitor_pk=None)
    base = reverse("chats:window", kwargs={"site_id": site_id, "campaign_id": campaign_id})
    config = {
        "site": site.site_id,
        "campaign": campaign.pk,
        "mode": campaign.signin_mode,
        "survey": [{"key": k, "label": label} for k, label in campaign.survey_questions],
        "token": chat_token_issue(guest),
        "api": f"{base}api/",
        "signIn": reverse("sso:visitor-login", kwargs={"site_id": site_id})
        + f"?campaign={campaign.pk}",
        "jwtUrl": reverse("sso:visitor-jwt", kwargs={"site_id": site_id}),
        "hostOrigins": site.allowed_origin_list,
        "stream": _stream_url(base),
        "safetyPoll": settings.SSO_CHAT_SAFETY_POLL_S,
    }
    response = render(
        request, "chats/window.html", {"campaign": campaign, "site": site, "config": config}
    )
    ancestors = " ".join(["'self'", *site.allowed_origin_list])
    policy = f"frame-ancestors {ancestors}"
    if campaign.logo_origin:  # the logo's https origin only
        policy += f"; img-src 'self' data: {campaign.logo_origin}"
    if stream_origin():  # the push stream on its own origin
        policy += f"; connect-src 'self' {stream_origin()}"
    response["Content-Security-Policy"] = policy
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


@require_GET
def loader_js(request: HttpRequest) -> HttpResponse:
    """The script customers paste; it finds the gateway from its own ``src``."""
    response = render(request, "chats/loader.js", content_type="application/javascript")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@require_GET
def handoff_page(request: HttpRequest, site_id: int, campaign_id: int) -> HttpResponse:
    """Last page of the sign-in popup: hand a one-time code to the opener window."""
    site, campaign = _site_campaign(site_id, campaign_id)
    visitor = principal_from_session(request, audience=Audience.VISITOR)
    code = ""
    if isinstance(visitor, Visitor) and visitor.site_id == site.pk:
        code = visitor_handoff_mint(site=site, campaign=campaign, visitor=visitor)
    response = render(
        request,
        "chats/handoff.html",
        {"code": code, "visitor": visitor if code else None, "site": site},
        status=200 if code else 403,
    )
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- JSON endpoints of the window -----------------------------------------

Api = Callable[..., dict[str, Any]]


class _Window:
    """What one API request of a window works with."""

    def __init__(self, site: Site, campaign: Campaign, credential: ChatCredential) -> None:
        self.site = site
        self.campaign = campaign
        self.credential = credential
        self.visitor: Visitor | None = (
            visitor_get_by_pk(site=site, pk=credential.visitor_pk)
            if credential.visitor_pk
            else None
        )
        chat = chat_get(site=site, pk=credential.chat_pk)
        # Defence in depth: a token only ever names its own campaign's chat.
        self.chat: Chat | None = chat if chat and chat.campaign_id == campaign.pk else None


def _refused(reason: RefusalReason) -> JsonResponse:
    """Answer a refusal as the window expects it: its code, its status."""
    return JsonResponse({"error": reason.value}, status=reason.status)


def window_api(view: Api) -> Callable[..., HttpResponse]:
    """Authenticate the window by its Bearer chat token; answer JSON."""

    @csrf_exempt
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, site_id: int, campaign_id: int) -> HttpResponse:
        try:
            site, campaign = _site_campaign(site_id, campaign_id)
        except Http404:
            return _refused(RefusalReason.CHAT_NOT_FOUND)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        try:
            credential = chat_token_read(token, site_pk=site.pk, campaign_pk=campaign.pk)
        except ChatTokenError:
            return _refused(RefusalReason.CHAT_BAD_TOKEN)
        if chat_window_revoked(site=site, window_id=credential.window_id):
            return _refused(RefusalReason.CHAT_TOKEN_REVOKED)
        try:
            body = json_read(request.body or b"{}") if request.method == "POST" else {}
        except InputError as error:
            return _refused(RefusalReason(error.code))
        if not isinstance(body, dict):
            return _refused(RefusalReason.BAD_REQUEST)
        try:
            data = view(request, _Window(site, campaign, credential), body)
        except ChatRefusedError as refused:
            return _refused(refused.reason)
        return JsonResponse(data)

    return wrapper


def _state(window: _Window, credential: ChatCredential) -> dict[str, Any]:
    return {
        "token": chat_token_issue(credential),
        "chat": credential.chat_pk,
        "visitor": {"name": str(window.visitor)} if window.visitor else None,
    }


@require_GET
@window_api
def api_state(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """Who the window is: its chat and signed-in visitor, if any."""
    return _state(window, window.credential)


@require_POST
@window_api
def api_start(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """Start the window's chat (or return the one it has)."""
    if window.chat is None or window.chat.status == Chat.Status.CLOSED:
        window.chat = chat_start(
            site=window.site,
            campaign=window.campaign,
            visitor=window.visitor,
            survey=body.get("survey"),
        )
    credential = ChatCredential(
        site_pk=window.site.pk,
        campaign_pk=window.campaign.pk,
        chat_pk=window.chat.pk,
        visitor_pk=window.visitor.pk if window.visitor else None,
        window_id=window.credential.window_id,
    )
    return _state(window, credential)


def _chat_or_refuse(window: _Window) -> Chat:
    if window.chat is None:
        raise ChatRefusedError(RefusalReason.NO_CHAT)
    return window.chat


@require_POST
@window_api
def api_send(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    chat = _chat_or_refuse(window)
    message = message_post(
        site=window.site, chat=chat, sender=Message.Sender.VISITOR, text=str(body.get("text", ""))
    )
    return {"id": message.pk if message else None}


@never_cache
@require_GET
def api_poll(request: HttpRequest, site_id: int, campaign_id: int) -> HttpResponse:
    """The window's poll: 204 when nothing changed since the version it
    sends (``?v=``), checked in Redis before any database work
    (``chats.live``); else the full answer of ``_api_poll``.
    """
    header = request.headers.get("Authorization", "")
    chat_pk = chat_token_chat(header.removeprefix("Bearer ").strip())
    if chat_pk is None:
        return _api_poll(request, site_id, campaign_id)
    where = {"site_id": site_id, "campaign_pk": campaign_id, "chat_pk": chat_pk}
    if chat_version_is(**where, version=request.GET.get("v", "")):
        return HttpResponse(status=204)
    # The version first, then the database (see chats.live).
    version = chat_version_current(**where)
    response = _api_poll(request, site_id, campaign_id)
    if response.status_code == 200:
        response["X-Chat-Version"] = version
    return response


@window_api
def _api_poll(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """New messages after ``?after=<id>``, the chat's status, a pending sign-in request."""
    chat = _chat_or_refuse(window)
    try:
        after = ascii_int(request.GET.get("after", "0"), minimum=0, maximum=MAX_PK)
    except InputError as error:
        raise ChatRefusedError(RefusalReason(error.code)) from None
    messages = messages_after(site=window.site, chat=chat, after=after, for_visitor=True)
    return {
        "status": chat.status,
        "agent_typing": chat_typing(chat=chat, side=Message.Sender.AGENT),
        "agent_read": chat.agent_read_id,
        "signin_requested": chat.visitor_id is None
        and signin_request_pending(site=window.site, chat=chat),
        "visitor": {"name": str(chat.visitor)} if chat.visitor else None,
        "messages": [
            {"id": m.pk, "sender": m.sender, "text": m.text, "at": m.created_at.isoformat()}
            for m in messages
        ],
    }


@require_POST
@window_api
def api_redeem(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """Redeem a sign-in handoff code: the window (and its chat) now has a visitor."""
    credential, visitor = visitor_handoff_redeem(
        site=window.site,
        campaign=window.campaign,
        credential=window.credential,
        code=str(body.get("code", "")),
    )
    window.visitor = visitor
    return _state(window, credential)


@require_POST
@window_api
def api_seen(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """The visitor has read the chat up to message ``id`` (the agent sees "Seen")."""
    chat = _chat_or_refuse(window)
    try:
        message_id = ascii_int(str(body.get("id", "")), minimum=1, maximum=MAX_PK)
    except InputError as error:
        raise ChatRefusedError(RefusalReason(error.code)) from None
    chat_read_mark(site=window.site, chat=chat, side=Message.Sender.VISITOR, message_id=message_id)
    return {"read": chat.visitor_read_id}


@require_POST
@window_api
def api_typing(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """The visitor is typing (the agent's console shows it for a few seconds)."""
    chat = _chat_or_refuse(window)
    if chat.status != Chat.Status.CLOSED:
        chat_typing_set(site=window.site, chat=chat, side=Message.Sender.VISITOR)
    return {}


@require_POST
@window_api
def api_sign_out(request: HttpRequest, window: _Window, body: dict[str, Any]) -> dict[str, Any]:
    """``SsoChat.signOut()``: revoke this window's tokens, end its chat, and
    answer a fresh guest token (of a new window ID) to start again with.
    """
    credential = chat_window_sign_out(
        site=window.site, campaign=window.campaign, credential=window.credential
    )
    window.visitor = None
    return _state(window, credential)
