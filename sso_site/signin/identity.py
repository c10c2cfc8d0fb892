"""Value objects passed from protocol adapters to the session layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from campaigns.models import Visitor
from tenants.models import Agent, Audience, Protocol, Site

__all__ = ["Audience", "Protocol", "SignInResult", "VerifiedIdentity"]


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who a protocol adapter has verified, for which site and audience.

    ``claims`` are the raw attributes or claims, already signature-checked;
    ``reference`` is a non-secret identifier of the artefact (``jti``,
    assertion ID) kept in the audit log. ``jit_role``, set by an adapter only
    when the site enables just-in-time creation, creates an unknown agent
    with that role. ``logout`` is what the protocol's single logout will
    need of this sign-in (SAML: the NameID and SessionIndex), short strings
    kept in the session binding (``sso_site.signin.session.logout_data``).
    """

    site: Site
    audience: Audience
    protocol: Protocol
    subject: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    reference: str = ""
    jit_role: str = ""
    logout: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SignInResult:
    """What ``sign_in()`` did: the principal signed in and where to go next."""

    principal: Agent | Visitor
    redirect_to: str
