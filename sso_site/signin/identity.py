"""Value objects passed from protocol adapters to the session layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from campaigns.models import Visitor
from tenants.models import Agent, Audience, Protocol, Site

if TYPE_CHECKING:
    from sso_site.signin.refusals import SignInRefused

__all__ = ["Audience", "Protocol", "SignInResult", "SingleUse", "VerifiedIdentity"]


@dataclass(frozen=True, slots=True)
class SingleUse:
    """An identifier the sign-in spends (a JWT's ``jti``), and the refusal
    to raise when it was spent already.

    ``sign_in()`` spends it first thing in its own transaction: the unique
    row (``tenants.models.UsedToken``) is written with the sign-in, not in a
    transaction of its own. ``expires_at`` is when the row may go: the
    last moment the artefact could still be accepted.
    """

    kind: str
    value: str
    expires_at: datetime
    replay: SignInRefused


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who a protocol adapter has verified, for which site and audience.

    ``claims`` are the raw attributes or claims, already signature-checked;
    ``reference`` is a non-secret identifier of the artefact (``jti``,
    assertion ID) kept in the audit log. ``jit_role``, set by an adapter only
    when the site enables just-in-time creation, creates an unknown agent
    with that role. ``single_use``, when set, is spent by ``sign_in()``:
    an adapter that sets it must go on to ``sign_in()``. ``logout`` is what
    the protocol's single logout will need of this sign-in (SAML: the NameID
    and SessionIndex), short strings kept in the session binding
    (``sso_site.signin.session.logout_data``).
    """

    site: Site
    audience: Audience
    protocol: Protocol
    subject: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    reference: str = ""
    jit_role: str = ""
    single_use: SingleUse | None = None
    logout: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SignInResult:
    """What ``sign_in()`` did: the principal signed in and where to go next."""

    principal: Agent | Visitor
    redirect_to: str
