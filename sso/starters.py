"""The one registry of sign-in methods: how a site's sign-in starts and ends.

``METHODS`` lists every SSO method in its order of precedence. A site's
access policy may name the method that starts agent sign-in; otherwise the
first method the site has configured wins (JWT, SAML, then OpenID
Connect: the order the adapters had when they registered themselves). Adding a method is one entry
here (its start and logout hooks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from access.selectors import access_policy_get
from sso.jwt.flows import jwt_logout_handler, jwt_starter
from sso.oidc.flows import oidc_logout, oidc_start
from sso.saml.starter import saml_logout, saml_start
from tenants.models import Audience, Protocol, Site

# Given the request, the site, the audience and a permitted return_to,
# return the response that begins sign-in, or None when not configured.
Starter = Callable[[HttpRequest, Site, Audience, str | None], HttpResponse | None]
# Called after the local sign-out; return the response that ends the
# session at the identity provider, or None.
LogoutHandler = Callable[[HttpRequest, Site, Audience], HttpResponse | None]


@dataclass(frozen=True, slots=True)
class SignInMethod:
    """One way of signing in: its protocol, start and logout hooks."""

    protocol: Protocol
    start: Starter
    logout: LogoutHandler


METHODS: tuple[SignInMethod, ...] = (
    SignInMethod(Protocol.JWT, jwt_starter, jwt_logout_handler),
    SignInMethod(Protocol.SAML, saml_start, saml_logout),
    SignInMethod(Protocol.OIDC, oidc_start, oidc_logout),
)


def _methods_for(site: Site, audience: Audience) -> tuple[SignInMethod, ...]:
    chosen = access_policy_get(site=site).agent_method if audience == Audience.AGENT else ""
    return tuple(m for m in METHODS if not chosen or m.protocol == chosen)


def sign_in_start(
    request: HttpRequest, *, site: Site, audience: Audience, return_to: str | None
) -> HttpResponse | None:
    """Return the response that starts ``audience``'s sign-in at ``site``,
    or None when no (chosen) method is configured.
    """
    for method in _methods_for(site, audience):
        response = method.start(request, site, audience, return_to)
        if response is not None:
            return response
    return None


def sign_in_logout(request: HttpRequest, *, site: Site, audience: Audience) -> HttpResponse | None:
    """Return the response that ends the session at the identity provider, if any."""
    for method in _methods_for(site, audience):
        response = method.logout(request, site, audience)
        if response is not None:
            return response
    return None
