"""The OpenID Connect redirect URI ``/sso/<site_id>/agent/oidc/callback/``
and the RP's public keys for ``private_key_jwt``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sso.oidc.flows import oidc_identity, oidc_settings_get
from sso.oidc.keys import public_jwks
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Audience, Protocol
from tenants.selectors import site_get_by_public_id, site_is_usable


@never_cache
@require_GET
def agent_oidc_callback(request: HttpRequest, site_id: int) -> HttpResponse:
    """Check the provider's answer, sign the agent in and redirect."""
    site = site_get_by_public_id(site_id=site_id)
    try:
        if not site_is_usable(site):
            raise SignInRefused(
                RefusalReason.SITE_DISABLED, site=site, detail={"requested_site_id": site_id}
            )
        identity, return_to = oidc_identity(request, site=site)
        result = sign_in(request, identity=identity, return_to=return_to or None)
        response: HttpResponse = HttpResponseRedirect(result.redirect_to)
    except SignInRefused as refusal:
        response = render_refusal(
            request, refusal, site=site, audience=Audience.AGENT, protocol=Protocol.OIDC
        )
    # The URL carries the authorization code: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def agent_oidc_jwks(request: HttpRequest, site_id: int) -> HttpResponse:
    """Return the public key the site's provider checks private_key_jwt with."""
    site = site_get_by_public_id(site_id=site_id)
    config = oidc_settings_get(site=site, audience=Audience.AGENT) if site else None
    return JsonResponse(public_jwks(config=config))
