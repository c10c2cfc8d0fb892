"""From a verified SAML assertion to a ``VerifiedIdentity``: the email, the
MFA policy and the single use of the assertion.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.utils import timezone
from saml2.time_util import str_to_time

from sso.checktrace import check_passed
from sso.saml.config import CLOCK_LEEWAY
from sso.saml.models import SamlSettings
from sso.saml.state import saml_logout_data
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Audience, Protocol, Site
from tenants.selectors import token_is_unused
from tenants.services import token_consume_in_transaction

REPLAY_KIND = "saml_assertion"
DEFAULT_ASSERTION_LIFETIME = dt.timedelta(hours=1)


def identity_from_session_info(
    *,
    site: Site,
    settings: SamlSettings,
    session_info: dict[str, Any],
    assertion_info: dict[str, Any],
    dry_run: bool = False,
) -> VerifiedIdentity:
    """Return who the verified assertion names, or raise SignInRefused.

    The assertion ID is consumed here, in the database shared by every app
    server, before anything else is checked, within the caller's
    transaction, which also holds the sign-in (``AgentAcsView``): it
    commits with a sign-in that succeeds, and a second presentation waits
    on it, then is refused as a replay. A refused sign-in rolls it back and
    leaves nothing behind. A ``dry_run`` only looks the assertion ID up.
    """
    assertion_id = str(assertion_info.get("assertion_id") or "")
    detail = {"assertion_id": assertion_id[:80]}
    visitor = settings.audience == Audience.VISITOR
    email = _visitor_subject(settings, session_info) if visitor else _email(settings, session_info)
    # No savepoint: on False the transaction is broken, and the refusal
    # raised below leaves it.
    consume = token_is_unused if dry_run else token_consume_in_transaction
    if not assertion_id or not consume(
        site=site,
        kind=REPLAY_KIND,
        value=assertion_id[:255],
        expires_at=_expiry(
            assertion_info.get("not_on_or_after"), session_info.get("not_on_or_after")
        ),
    ):
        raise SignInRefused(
            RefusalReason.REPLAY, site=site, subject=email, detail={**detail, "check": "replay"}
        )
    check_passed("replay", assertion_id=assertion_id[:80], dry_run=dry_run)
    if settings.mfa_required:
        refs = {str(info[0]) for info in session_info.get("authn_info") or [] if info}
        if not refs & set(settings.mfa_context_list):
            raise SignInRefused(
                RefusalReason.MFA_REQUIRED,
                site=site,
                subject=email,
                detail={**detail, "check": "mfa", "authn_context": sorted(refs)[:3]},
            )
    check_passed(
        "mfa", required=settings.mfa_required, accepted=", ".join(settings.mfa_context_list)
    )
    if not email and visitor:
        # A visitor is keyed by the NameID (or the configured attribute).
        raise SignInRefused(
            RefusalReason.MAPPING_FAILED,
            site=site,
            audience=Audience.VISITOR,
            protocol=Protocol.SAML,
            detail={**detail, "check": "identity", "fields": ["external_id"]},
        )
    if not email:
        raise SignInRefused(
            RefusalReason.SAML_NO_EMAIL, site=site, detail={**detail, "check": "identity"}
        )
    return VerifiedIdentity(
        site=site,
        audience=Audience(settings.audience),
        protocol=Protocol.SAML,
        subject=email,
        claims=dict(session_info.get("ava") or {}),
        reference=assertion_id[:80],
        logout=saml_logout_data(
            name_id=session_info.get("name_id"),
            session_index=str(session_info.get("session_index") or ""),
        ),
    )


def _visitor_subject(settings: SamlSettings, session_info: dict[str, Any]) -> str:
    """A visitor's key: the configured attribute's first value, else the NameID."""
    if settings.email_attribute:
        values = (session_info.get("ava") or {}).get(settings.email_attribute) or []
        value = str(values[0]) if values else ""
    else:
        value = str(getattr(session_info.get("name_id"), "text", "") or "")
    value = value.strip()
    return value if len(value) <= 255 else ""


def _email(settings: SamlSettings, session_info: dict[str, Any]) -> str:
    if settings.email_attribute:
        values = (session_info.get("ava") or {}).get(settings.email_attribute) or []
        value = str(values[0]) if values else ""
    else:
        name_id = session_info.get("name_id")
        value = str(getattr(name_id, "text", "") or "")
    value = value.strip()
    return value if "@" in value and len(value) <= 254 else ""


def _expiry(confirmation_end: str | None, conditions_end: int | None) -> dt.datetime:
    """Return until when the assertion ID must be remembered: past the
    latest moment pysaml2 could still accept the assertion, plus leeway.
    """
    ends = [timezone.now() + DEFAULT_ASSERTION_LIFETIME]
    if confirmation_end:
        seconds = calendar.timegm(str_to_time(confirmation_end))
        ends.append(dt.datetime.fromtimestamp(seconds, tz=dt.UTC))
    if conditions_end and conditions_end > 0:
        ends.append(dt.datetime.fromtimestamp(conditions_end, tz=dt.UTC))
    return max(ends) + dt.timedelta(seconds=CLOCK_LEEWAY)
