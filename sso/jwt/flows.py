"""The JWT adapter's flows: the identity a callback's token proves, and the
hooks that start a sign-in at the site's login page and end one at its
logout page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sso.jwt.selectors import jwt_settings_get_enabled
from sso.jwt.verify import jwt_single_use, jwt_subject, verify_site_jwt
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Audience, Protocol, Site
from tenants.selectors import site_is_usable

RETURN_TO = "return_to"


def url_with_params(url: str, **params: str) -> str:
    """Return ``url`` with ``params`` added to (or replacing in) its query."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def jwt_identity(
    *, site: Site, audience: Audience, token: str | None, dry_run: bool = False
) -> VerifiedIdentity:
    """Return the identity ``token`` proves for ``audience`` of ``site``, else raise.

    Each audience has its own settings row (keys, secret), so a visitor token
    never proves an agent, nor the reverse. The identity carries the token's
    ``jti`` as its single use: the caller must go on to ``sign_in()``, which
    spends it (a dry run carries none, and spends nothing).
    """
    config = jwt_settings_get_enabled(site=site, audience=audience)
    if config is None:
        raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site)
    # The jti is spent by sign_in(), in the sign-in's own transaction.
    claims = verify_site_jwt(
        site=site, settings=config, token=token, dry_run=dry_run, consume=False
    )
    jit = audience == Audience.AGENT and config.jit_enabled
    return VerifiedIdentity(
        site=site,
        audience=audience,
        protocol=Protocol.JWT,
        # verify_site_jwt refused a token without one.
        subject=jwt_subject(claims, audience=audience),
        claims=claims,
        reference=claims["jti"],
        # The session layer creates an unknown agent only when this is set.
        jit_role=config.jit_role if jit else "",
        single_use=None if dry_run else jwt_single_use(site=site, settings=config, claims=claims),
    )


def jwt_agent_identity(*, site: Site | None, site_id: int, token: str | None) -> VerifiedIdentity:
    """Return the agent identity ``token`` proves for ``site``, else raise.

    ``site`` is the site of public ID ``site_id``, or None if there is none;
    unknown and disabled sites are refused alike.
    """
    if not site_is_usable(site):
        raise SignInRefused(
            RefusalReason.SITE_DISABLED, site=site, detail={"requested_site_id": site_id}
        )
    return jwt_identity(site=site, audience=Audience.AGENT, token=token)


def jwt_starter(
    request: HttpRequest, site: Site, audience: Audience, return_to: str | None
) -> HttpResponse | None:
    """Send the browser to the site's login URL, with our callback as return_to.

    A permitted ``return_to`` (checked by the caller) travels inside the
    callback URL's own query, so the customer's system needs to carry one
    opaque URL only; the callback checks it again before following it.
    """
    if audience != Audience.AGENT:
        return None  # the visitor callback arrives with Visitor SSO
    config = jwt_settings_get_enabled(site=site, audience=audience)
    if config is None or not config.login_url:
        return None
    callback = request.build_absolute_uri(
        reverse("sso:agent-jwt", kwargs={"site_id": site.site_id})
    )
    if return_to:
        callback = url_with_params(callback, **{RETURN_TO: return_to})
    return HttpResponseRedirect(url_with_params(config.login_url, **{RETURN_TO: callback}))


def jwt_logout_handler(request: HttpRequest, site: Site, audience: Audience) -> HttpResponse | None:
    """Send a signed-out agent on to the site's remote logout URL, if set."""
    config = jwt_settings_get_enabled(site=site, audience=audience)
    if config is None or not config.logout_url:
        return None
    return HttpResponseRedirect(config.logout_url)
