"""The JWT callback: ``/sso/<site_id>/agent/jwt/`` (token in ``jwt``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sso.jwt.flows import RETURN_TO, jwt_agent_identity
from sso.jwt.testconnection import jwt_test_finish, jwt_test_nonce
from sso_site.signin.redirects import redirect_target_check
from sso_site.signin.refusals import SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Audience, Protocol
from tenants.selectors import site_get_by_public_id


# CSRF-exempt because the customer's system posts this form from its own
# origin and cannot hold our CSRF token. That is safe here: CSRF abuses the
# victim's ambient cookies, and this view grants nothing on the strength of
# cookies; the only credential is the signed, short-lived, single-use token
# in the body, verified before anything is written. (Planting one's own
# valid token on a victim, "login CSRF", needs a token for an agent of this
# very site, and the GET form allows the same; the contract has no state.)
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def agent_jwt_callback(request: HttpRequest, site_id: int) -> HttpResponse:
    """Verify the site's JWT, sign the agent in and redirect (token off the URL)."""
    site = site_get_by_public_id(site_id=site_id)
    data = request.POST if request.method == "POST" else request.GET
    nonce = jwt_test_nonce(request, site=site)  # issue 15: "test connection"
    if nonce is not None and site is not None:
        return jwt_test_finish(request, site=site, token=data.get("jwt"), nonce=nonce)
    try:
        return_to = _return_to(request)
        if site is not None and site.is_active:
            # Before the token is spent: a refused return_to leaves it usable.
            redirect_target_check(request, site=site, target=return_to, default="/")
        identity = jwt_agent_identity(site=site, site_id=site_id, token=data.get("jwt"))
        result = sign_in(request, identity=identity, return_to=return_to)
        response: HttpResponse = HttpResponseRedirect(result.redirect_to)
    except SignInRefused as refusal:
        response = render_refusal(
            request, refusal, site=site, audience=Audience.AGENT, protocol=Protocol.JWT
        )
    # The URL may carry the token: never send it on as a Referer, never cache.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _return_to(request: HttpRequest) -> str | None:
    # It travels in the callback URL's query (see jwt_starter), on POST too;
    # sign_in() refuses it unless it is one of this site's permitted targets.
    return request.GET.get(RETURN_TO) or request.POST.get(RETURN_TO)
