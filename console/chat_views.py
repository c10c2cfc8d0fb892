"""The agent console's chats: the list, one chat with the visitor panel, and
the JSON the console polls. An agent sees only their own site's chats: every
lookup goes through a selector scoped by the agent's site (another site's
chat is a plain 404).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chats.models import Chat, Message
from chats.presence import chat_typing, chat_typing_set
from chats.selectors import (
    chat_get,
    chats_open,
    chats_open_version,
    messages_after,
    signin_request_pending,
    visitor_earlier_chats,
)
from chats.selectors import visitor_panel as panel_rows
from chats.services import (
    ChatRefusedError,
    chat_accept,
    chat_close,
    chat_read_mark,
    message_post,
    signin_request_create,
)
from chats.tokens import CONSOLE_TICKET_MAX_AGE, console_ticket_issue
from chats.views import stream_origin
from sso_site.signin.decorators import agent_required
from sso_site.signin.requests import AgentRequest
from tenants.inputs import InputError, ascii_int
from tenants.models import Agent, Site


def _agent(request: AgentRequest) -> Agent:
    return request.agent


def _chat(request: AgentRequest, chat_id: int) -> Chat:
    chat = chat_get(site=_agent(request).site, pk=chat_id)
    if chat is None:
        raise Http404("No such chat.")
    return chat


def verified(chat: Chat) -> dict[str, str] | None:
    """How the chat's visitor proved who they are (None: an unverified guest)."""
    visitor = chat.visitor
    if visitor is None:
        return None
    at = visitor.last_sign_in_at
    return {
        "protocol": visitor.get_last_protocol_display() or "SSO",
        "at": at.isoformat() if at else "",
        "label": f"Verified by {visitor.get_last_protocol_display() or 'SSO'}"
        + (f", {at:%Y-%m-%d %H:%M} UTC" if at else ""),
    }


def chat_summary(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.pk,
        "name": chat.display_name,
        "signed_in": chat.visitor_id is not None,
        "verified": verified(chat),
        "campaign": chat.campaign.name,
        "group": chat.group,
        "status": chat.status,
        "agent": str(chat.agent) if chat.agent else None,
        "url": reverse("console:chat", kwargs={"chat_id": chat.pk}),
    }


@never_cache
@require_GET
@agent_required
def chats_json(request: AgentRequest) -> JsonResponse:
    """One page (``?page=``, from 1) of the chats the agent can act on: waiting
    ones and their own active ones. With ``?version=`` still current the
    answer is ``{"unchanged": true}`` after one aggregate query."""
    agent = _agent(request)
    total, version = chats_open_version(site=agent.site, agent=agent)
    if request.GET.get("version") == version:
        return JsonResponse({"unchanged": True, "version": version})
    size = settings.SSO_CONSOLE_PAGE_SIZE
    pages = max((total + size - 1) // size, 1)
    try:
        page = min(ascii_int(request.GET.get("page", "1"), minimum=1, maximum=10**6), pages)
    except InputError:
        page = 1
    chats = chats_open(
        site=agent.site, group=agent.department, agent=agent, offset=(page - 1) * size
    )
    return JsonResponse(
        {
            "chats": [chat_summary(c) for c in chats],
            "page": page,
            "pages": pages,
            "total": total,
            "version": version,
        }
    )


def stream_on() -> bool:
    """Whether a push stream server runs (``chats.stream``)."""
    return settings.SSO_CHAT_STREAM not in ("", "off")


@never_cache
@require_GET
@agent_required
def chat_detail(request: AgentRequest, chat_id: int) -> HttpResponse:
    chat = _chat(request, chat_id)
    agent = _agent(request)
    context = {
        "agent": agent,
        "site": agent.site,
        "chat": chat,
        "summary": chat_summary(chat),
        "history": history_rows(chat, site=agent.site),
        "stream": stream_on(),
        "safety_poll": settings.SSO_CHAT_SAFETY_POLL_S,
    }
    return stream_allowed(render(request, "console/chat.html", context))


def stream_allowed(response: HttpResponse) -> HttpResponse:
    """Let the page's script connect to the push stream on its own origin."""
    if stream_origin():
        response._csp_update = {"connect-src": [stream_origin()]}  # type: ignore[attr-defined]
    return response


@never_cache
@require_GET
@agent_required
def chats_stream_ticket(request: AgentRequest) -> JsonResponse:
    """A ticket to open the push stream of the agent's site's chat list
    (chats arriving, taken, ended), as ``chat_stream_ticket`` for chat 0."""
    if not stream_on():
        return JsonResponse({"error": "no_stream"}, status=404)
    agent = _agent(request)
    ticket = console_ticket_issue(agent_pk=agent.pk, site_pk=agent.site_id, chat_pk=0)
    return JsonResponse(
        {"url": f"{stream_origin()}/console/stream/?t={ticket}", "max_age": CONSOLE_TICKET_MAX_AGE}
    )


@never_cache
@require_GET
@agent_required
def chat_stream_ticket(request: AgentRequest, chat_id: int) -> JsonResponse:
    """A ticket to open the chat's push stream (``chats.stream``) within
    ``CONSOLE_TICKET_MAX_AGE`` seconds, and the stream's URL; for a chat of
    the agent's own site only (another site's chat is a 404). The console
    asks a new one each time it (re)opens the stream."""
    chat = _chat(request, chat_id)
    if not stream_on():
        return JsonResponse({"error": "no_stream"}, status=404)
    agent = _agent(request)
    ticket = console_ticket_issue(agent_pk=agent.pk, site_pk=agent.site_id, chat_pk=chat.pk)
    return JsonResponse(
        {
            "url": f"{stream_origin()}/console/chats/{chat.pk}/stream/?t={ticket}",
            "max_age": CONSOLE_TICKET_MAX_AGE,
        }
    )


@never_cache
@require_GET
@agent_required
def chat_poll(request: AgentRequest, chat_id: int) -> JsonResponse:
    """New messages after ``?after=<id>`` and the visitor panel."""
    chat = _chat(request, chat_id)
    site = _agent(request).site
    try:
        after = ascii_int(request.GET.get("after", "0"), minimum=0, maximum=2**63 - 1)
    except InputError as error:
        return JsonResponse({"error": error.code}, status=400)
    messages = messages_after(site=site, chat=chat, after=after)
    return JsonResponse(
        {
            "chat": chat_summary(chat),
            "signin_requested": signin_request_pending(site=site, chat=chat),
            "panel": [
                {"label": r.label, "value": r.value} for r in panel_rows(site=site, chat=chat)
            ],
            "survey": survey_rows(chat),
            "history": history_rows(chat, site=site),
            "visitor_typing": chat_typing(chat=chat, side=Message.Sender.VISITOR),
            "visitor_read": chat.visitor_read_id,
            "messages": [
                {"id": m.pk, "sender": m.sender, "text": m.text, "at": m.created_at.isoformat()}
                for m in messages
            ],
        }
    )


def history_rows(chat: Chat, *, site: Site) -> list[dict[str, Any]]:
    """The signed-in visitor's earlier chats on this site (returning visitors)."""
    return [
        {
            "id": earlier.pk,
            "at": f"{earlier.created_at:%Y-%m-%d %H:%M}",
            "campaign": earlier.campaign.name,
            "status": earlier.get_status_display(),
            "url": reverse("console:chat", kwargs={"chat_id": earlier.pk}),
        }
        for earlier in visitor_earlier_chats(site=site, chat=chat)
    ]


def survey_rows(chat: Chat) -> list[dict[str, str]]:
    """The guest's survey answers, labelled by the campaign's questions."""
    labels = dict(chat.campaign.survey_questions)
    return [
        {"label": labels.get(key, key), "value": str(value)}
        for key, value in chat.survey_answers.items()
    ]


def _refusal(refused: ChatRefusedError) -> JsonResponse:
    return JsonResponse({"error": refused.code}, status=refused.status)


@require_POST
@agent_required
def chat_send(request: AgentRequest, chat_id: int) -> JsonResponse:
    chat = _chat(request, chat_id)
    agent = _agent(request)
    if chat.agent_id is None:
        chat_accept(site=agent.site, chat=chat, agent=agent)
    message = message_post(
        site=agent.site,
        chat=chat,
        sender=Message.Sender.AGENT,
        text=request.POST.get("text", ""),
        agent=agent,
    )
    return JsonResponse({"id": message.pk if message else None})


@require_POST
@agent_required
def chat_accept_view(request: AgentRequest, chat_id: int) -> JsonResponse:
    chat = _chat(request, chat_id)
    agent = _agent(request)
    try:
        chat_accept(site=agent.site, chat=chat, agent=agent)
    except ChatRefusedError as refused:
        return _refusal(refused)
    return JsonResponse({"chat": chat_summary(chat)})


@require_POST
@agent_required
def chat_signin_request(request: AgentRequest, chat_id: int) -> JsonResponse:
    """Ask the chat's guest to sign in: their window shows a sign-in prompt."""
    chat = _chat(request, chat_id)
    agent = _agent(request)
    try:
        signin_request_create(site=agent.site, chat=chat, agent=agent)
    except ChatRefusedError as refused:
        return _refusal(refused)
    return JsonResponse({"status": "sent"})


@require_POST
@agent_required
def chat_close_view(request: AgentRequest, chat_id: int) -> JsonResponse:
    """End the chat; it leaves the console's list."""
    chat = _chat(request, chat_id)
    agent = _agent(request)
    chat_close(site=agent.site, chat=chat, agent=agent)
    return JsonResponse({"chat": chat_summary(chat)})


@require_POST
@agent_required
def chat_seen(request: AgentRequest, chat_id: int) -> JsonResponse:
    """The agent has read the chat up to message ``id`` (the visitor sees "Seen")."""
    chat = _chat(request, chat_id)
    site = _agent(request).site
    try:
        message_id = ascii_int(request.POST.get("id", ""), minimum=1, maximum=2**63 - 1)
    except InputError as error:
        return JsonResponse({"error": error.code}, status=400)
    chat_read_mark(site=site, chat=chat, side=Message.Sender.AGENT, message_id=message_id)
    return JsonResponse({"read": chat.agent_read_id})


@require_POST
@agent_required
def chat_typing_view(request: AgentRequest, chat_id: int) -> JsonResponse:
    """The agent is typing: the visitor's window shows it within one poll."""
    chat = _chat(request, chat_id)
    if chat.status != Chat.Status.CLOSED:
        chat_typing_set(site=_agent(request).site, chat=chat, side=Message.Sender.AGENT)
    return JsonResponse({})
