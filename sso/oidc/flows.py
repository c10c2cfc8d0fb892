"""The OpenID Connect adapter's flows: start a sign-in, turn the callback
into a VerifiedIdentity, and end a sign-in at the provider.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sso.oidc.client import oidc_client, oidc_code_exchange
from sso.oidc.models import OidcSettings
from sso.oidc.provider import provider_get
from sso.oidc.tokens import id_token_verify
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.identity_keys import email_subject
from tenants.models import Audience, Protocol, Site

PENDING_KEY = "_sso_oidc_pending"
PENDING_MAX = 5
PARAM_MAX = 2048


def oidc_settings_get(*, site: Site, audience: Audience) -> OidcSettings | None:
    """Return the site's enabled OpenID Connect settings for ``audience``."""
    return OidcSettings.objects.filter(site=site, audience=audience, enabled=True).first()


def _redirect_uri(request: HttpRequest, site: Site) -> str:
    url = reverse("sso:agent-oidc-callback", kwargs={"site_id": site.site_id})
    return request.build_absolute_uri(url)


def _state_key(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def oidc_start(
    request: HttpRequest, site: Site, audience: Audience, return_to: str | None
) -> HttpResponse | None:
    """Send the browser to the provider, or return None without settings.

    ``state``, ``nonce`` and the PKCE verifier are random per sign-in and
    kept in this browser's session (a few at most, for several tabs), so the
    callback accepts only an answer to a request this browser started.
    """
    if audience != Audience.AGENT:
        return None
    config = oidc_settings_get(site=site, audience=audience)
    if config is None:
        return None
    provider = provider_get(issuer=config.issuer)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    client = oidc_client(
        config=config, provider=provider, redirect_uri=_redirect_uri(request, site)
    )
    url, _ = client.create_authorization_url(
        provider.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier
    )
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY, {}))
    now = int(time.time())
    flows = sorted(pending.items(), key=lambda item: item[1].get("at", 0))[-(PENDING_MAX - 1) :]
    pending = dict(flows)
    pending[_state_key(state)] = {
        "site": site.pk,
        "nonce": nonce,
        "verifier": verifier,
        "return_to": return_to or "",
        "at": now,
    }
    request.session[PENDING_KEY] = pending
    return HttpResponseRedirect(url)


def _flow_pop(request: HttpRequest, *, site: Site, state: str) -> dict[str, Any]:
    """Return and forget the pending sign-in ``state`` names, else raise."""
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY, {}))
    flow = pending.pop(_state_key(state), None) if state else None
    if flow is not None:
        # Used once, whatever the outcome.
        request.session[PENDING_KEY] = pending
    fresh = flow is not None and time.time() - flow["at"] <= settings.SSO_OIDC_FLOW_SECONDS
    if not fresh or flow is None or flow["site"] != site.pk:
        raise SignInRefused(RefusalReason.OIDC_STATE_MISMATCH)
    return dict(flow)


def oidc_identity(request: HttpRequest, *, site: Site) -> tuple[VerifiedIdentity, str]:
    """Return the identity the callback proves, and the flow's return_to."""
    config = oidc_settings_get(site=site, audience=Audience.AGENT)
    if config is None:
        raise SignInRefused(RefusalReason.NOT_CONFIGURED)
    params = request.GET
    if any(len(value) > PARAM_MAX for value in params.values()):
        raise SignInRefused(RefusalReason.OIDC_MALFORMED)
    if "error" in params:
        raise SignInRefused(
            RefusalReason.OIDC_PROVIDER_ERROR, detail={"error": params["error"][:40]}
        )
    flow = _flow_pop(request, site=site, state=params.get("state", ""))
    code = params.get("code", "")
    if not code:
        raise SignInRefused(RefusalReason.OIDC_MALFORMED)
    provider = provider_get(issuer=config.issuer)
    client = oidc_client(
        config=config, provider=provider, redirect_uri=_redirect_uri(request, site)
    )
    token = oidc_code_exchange(
        client=client, provider=provider, code=code, verifier=flow["verifier"]
    )
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused(RefusalReason.OIDC_MALFORMED)
    claims = id_token_verify(
        id_token=id_token, provider=provider, client_id=config.client_id, nonce=flow["nonce"]
    )
    subject = _subject(claims, config=config)
    _mfa_check(claims, config=config, subject=subject)
    sub = claims.get("sub")
    identity = VerifiedIdentity(
        site=site,
        audience=Audience.AGENT,
        protocol=Protocol.OIDC,
        subject=subject,
        claims=claims,
        reference=f"sub:{str(sub)[:64]}" if sub is not None else "",
    )
    return identity, flow["return_to"]


def _subject(claims: dict[str, Any], *, config: OidcSettings) -> str:
    value = claims.get(config.identity_claim)
    # The same reading of an email claim as the JWT and SAML adapters: a
    # valid address, or a look-alike the session layer refuses by name.
    subject = email_subject(value) if isinstance(value, str) and len(value) <= 254 else ""
    if not subject:
        raise SignInRefused(RefusalReason.OIDC_NO_IDENTITY)
    # An email the provider says it has not verified proves nothing about
    # who holds it (OIDC Core 5.1); absent, the provider vouches by policy.
    if claims.get("email_verified", True) is not True and config.identity_claim == "email":
        raise SignInRefused(RefusalReason.OIDC_EMAIL_UNVERIFIED, subject=subject)
    return subject


def _mfa_check(claims: dict[str, Any], *, config: OidcSettings, subject: str) -> None:
    """Refuse unless ``amr`` names an accepted method or ``acr`` an accepted
    class, where the site requires MFA.
    """
    if not config.mfa_required:
        return
    amr = claims.get("amr")
    methods = set(amr) if isinstance(amr, list) else set()
    if methods & set(config.amr_list) or claims.get("acr") in config.acr_list:
        return
    raise SignInRefused(RefusalReason.MFA_REQUIRED, subject=subject)


def oidc_logout(request: HttpRequest, site: Site, audience: Audience) -> HttpResponse | None:
    """Send a signed-out agent to the provider's end_session_endpoint, if it has one."""
    config = oidc_settings_get(site=site, audience=audience)
    if config is None or not config.logout_enabled:
        return None
    try:
        provider = provider_get(issuer=config.issuer)
    except SignInRefused:
        return None  # the local sign-out is done; the provider is unreachable
    if not provider.end_session_endpoint:
        return None
    query = urlencode(
        {
            "client_id": config.client_id,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("agent-login")),
        }
    )
    separator = "&" if "?" in provider.end_session_endpoint else "?"
    return HttpResponseRedirect(f"{provider.end_session_endpoint}{separator}{query}")
