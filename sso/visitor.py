"""Visitor SSO: ``/sso/<site_id>/visitor/login/?campaign=<id>`` and the
visitor JWT callback ``/sso/<site_id>/visitor/jwt/``.

A visitor signs in for one campaign's chat window. The window is embedded
cross-site, so the sign-in runs in a first-party popup (login start, the
site's login page, the callback, then the handoff page that passes a
single-use code back to the window), or, when the host page already holds a
JWT, the window posts it here with ``Accept: application/json`` and gets the
handoff code as JSON: no redirect at all.

Visitor JWTs are verified with the site's *visitor* JWT settings (their own
row, keys and secret), so a visitor token never signs an agent in, nor the
reverse.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.models import Campaign, Visitor
from campaigns.selectors import campaign_get_active
from chats.services import visitor_handoff_mint
from sso.jwt.flows import RETURN_TO, jwt_identity, url_with_params
from sso.jwt.selectors import jwt_settings_get_enabled
from sso.starters import STARTERS
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.inputs import ascii_int_or
from tenants.models import Audience, Protocol, Site
from tenants.selectors import site_get_by_public_id, site_is_usable

POPUP_HEADERS = {
    # The popup must keep its opener (the chat window) to hand the code back.
    "Cross-Origin-Opener-Policy": "unsafe-none",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _site_and_campaign(site_id: int, campaign_id: str | None) -> tuple[Site, Campaign]:
    site = site_get_by_public_id(site_id=site_id)
    if not site_is_usable(site):
        raise SignInRefused(
            RefusalReason.SITE_DISABLED, site=site, detail={"requested_site_id": site_id}
        )
    campaign = None
    pk = ascii_int_or(campaign_id, 0, minimum=1, maximum=2**63 - 1)
    if pk:
        campaign = campaign_get_active(site=site, pk=pk)
    if campaign is None:
        # Another site's campaign reads exactly like a missing one.
        raise SignInRefused(RefusalReason.BAD_REQUEST, site=site, detail={"campaign": "unknown"})
    return site, campaign


def handoff_page_url(site: Site, campaign: Campaign) -> str:
    return reverse("chats:handoff", kwargs={"site_id": site.site_id, "campaign_id": campaign.pk})


def _with_headers(response: HttpResponse) -> HttpResponse:
    for name, value in POPUP_HEADERS.items():
        response[name] = value
    return response


@never_cache
@require_GET
def visitor_login_start(request: HttpRequest, site_id: int) -> HttpResponse:
    """Start Visitor SSO for a campaign with the method the campaign names."""
    site = None
    try:
        site, campaign = _site_and_campaign(site_id, request.GET.get("campaign"))
        return_to = handoff_page_url(site, campaign)
        if campaign.visitor_sso == Protocol.JWT:
            config = jwt_settings_get_enabled(site=site, audience=Audience.VISITOR)
            if config is None or not config.login_url:
                raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site)
            callback = request.build_absolute_uri(
                reverse("sso:visitor-jwt", kwargs={"site_id": site.site_id})
            )
            callback = url_with_params(callback, campaign=str(campaign.pk))
            target = url_with_params(config.login_url, **{RETURN_TO: callback})
            return _with_headers(HttpResponseRedirect(target))
        for starter in STARTERS:
            response = starter(request, site, Audience.VISITOR, return_to)
            if response is not None:
                return _with_headers(response)
        raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site)
    except SignInRefused as refusal:
        return _with_headers(render_refusal(request, refusal, site=site, audience=Audience.VISITOR))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# CSRF-exempt as the agent callback is (see sso.jwt.views): the only
# credential is the signed, short-lived, single-use token in the request.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def visitor_jwt_callback(request: HttpRequest, site_id: int) -> HttpResponse:
    """Verify a visitor JWT, sign the visitor in, hand the result to the window.

    With ``Accept: application/json`` (the window posting a host page's
    JWT) the answer is JSON: a handoff code, or the refusal's reason code.
    Otherwise (the popup) a redirect to the handoff page, or the refusal page.
    """
    data = request.POST if request.method == "POST" else request.GET
    site = None
    try:
        site, campaign = _site_and_campaign(
            site_id, data.get("campaign") or request.GET.get("campaign")
        )
        if campaign.visitor_sso != Protocol.JWT:
            raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site, protocol=Protocol.JWT)
        identity = jwt_identity(site=site, audience=Audience.VISITOR, token=data.get("jwt"))
        return_to = handoff_page_url(site, campaign)
        result = sign_in(request, identity=identity, return_to=return_to)
        visitor = result.principal
        if not isinstance(visitor, Visitor):  # pragma: no cover - sign_in's contract
            raise SignInRefused(RefusalReason.BAD_REQUEST, site=site)
        if _wants_json(request):
            code = visitor_handoff_mint(site=site, campaign=campaign, visitor=visitor)
            response: HttpResponse = JsonResponse(
                {"status": "signed_in", "code": code, "visitor": {"name": str(visitor)}}
            )
        else:
            response = HttpResponseRedirect(result.redirect_to)
    except SignInRefused as refusal:
        page = render_refusal(
            request, refusal, site=site, audience=Audience.VISITOR, protocol=Protocol.JWT
        )
        if _wants_json(request):
            response = JsonResponse(
                {
                    "status": "refused",
                    "reason": refusal.reason.value,
                    "message": refusal.reason.message,
                },
                status=page.status_code,
            )
        else:
            response = page
    return _with_headers(response)
