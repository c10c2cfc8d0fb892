"""Password + TOTP sign-in: credentials, the checks, and the lockout.

Passwords are hashed with Django's hashers; TOTP secrets are stored
encrypted (``sso_site.secret_store``), since checking a code needs the secret.
Failures count per site and account in the shared cache; past
``SSO_PASSWORD_MAX_FAILURES`` the account is locked for
``SSO_PASSWORD_LOCKOUT_SECONDS``, whatever the address the attempts come from.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from access.models import SsoMode
from access.selectors import access_policy_get
from sso.password.models import AgentCredential, BreakGlassUse
from sso_site.secret_store import secret_decrypt, secret_encrypt
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.identity_keys import email_key_or_none
from tenants.models import Agent, Audience, Protocol, Site
from tenants.selectors import agent_get_by_key
from tenants.services import token_consume
from webhooks.models import EventKind
from webhooks.services import event_emit

logger = logging.getLogger(__name__)

BREAK_GLASS = "break_glass"
# Checked when there is no such agent, so both paths take as long.
_DUMMY_HASH = make_password("not-a-real-password-used-for-timing-only")


def credential_set(*, site: Site, agent: Agent, password: str, break_glass: bool) -> str:
    """Give ``agent`` a password and a new TOTP secret; return the secret
    (shown once, to be enrolled in an authenticator app).
    """
    secret = pyotp.random_base32()
    AgentCredential.objects.update_or_create(
        site=site,
        agent=agent,
        defaults={
            "password_hash": make_password(password),
            "totp_secret_encrypted": secret_encrypt(secret),
            "break_glass": break_glass,
        },
    )
    return secret


def _failure_key(site: Site, email: str) -> str:
    # Failures count per identity key, so spellings of one address share them.
    account = email_key_or_none(email) or email.strip().lower()
    digest = hashlib.sha256(account.encode()).hexdigest()[:32]
    return f"sso:password:failures:{site.pk}:{digest}"


def _failure_count(key: str) -> int:
    try:
        return int(cache.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _failed(site: Site, email: str, reason: RefusalReason) -> SignInRefused:
    key = _failure_key(site, email)
    if cache.add(key, 1, timeout=settings.SSO_PASSWORD_LOCKOUT_SECONDS) is False:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.SSO_PASSWORD_LOCKOUT_SECONDS)
    return SignInRefused(reason, subject=email[:254])


def password_identity(
    *, site: Site, email: str, password: str, code: str
) -> tuple[VerifiedIdentity, bool]:
    """Return the identity a password and TOTP code prove, and whether this
    is a break-glass sign-in; else raise.
    """
    email = email.strip()
    if _failure_count(_failure_key(site, email)) >= settings.SSO_PASSWORD_MAX_FAILURES:
        raise SignInRefused(RefusalReason.PASSWORD_LOCKED, subject=email[:254])
    key = email_key_or_none(email)
    agent = agent_get_by_key(site=site, key=key) if key else None
    credential = AgentCredential.objects.filter(site=site, agent=agent).first() if agent else None
    stored = credential.password_hash if credential is not None else _DUMMY_HASH
    if not check_password(password, stored) or credential is None or agent is None:
        raise _failed(site, email, RefusalReason.PASSWORD_INVALID)
    secret = secret_decrypt(credential.totp_secret_encrypted) or ""
    totp = pyotp.TOTP(secret) if secret else None
    if totp is None or not code.isdigit() or not totp.verify(code, valid_window=1):
        raise _failed(site, email, RefusalReason.TOTP_INVALID)
    # A code is good once: someone who saw it typed cannot use it again.
    expires = timezone.now() + timedelta(seconds=totp.interval * 3)
    if not token_consume(site=site, kind="totp", value=f"{agent.pk}:{code}", expires_at=expires):
        raise _failed(site, email, RefusalReason.TOTP_INVALID)
    mode = access_policy_get(site=site).sso_mode
    break_glass = mode == SsoMode.REQUIRED
    if break_glass and not credential.break_glass:
        raise SignInRefused(RefusalReason.SSO_REQUIRED, subject=agent.email)
    cache.delete(_failure_key(site, email))
    identity = VerifiedIdentity(
        site=site,
        audience=Audience.AGENT,
        protocol=Protocol.PASSWORD,
        subject=agent.email,
        reference=BREAK_GLASS if break_glass else "",
    )
    return identity, break_glass


def break_glass_record(*, site: Site, agent: Agent, client_ip: str | None) -> BreakGlassUse:
    """Record a break-glass sign-in for the operators to review."""
    logger.warning("break-glass sign-in: site=%s agent=%s", site.site_id, agent.pk)
    with transaction.atomic():
        use = BreakGlassUse.objects.create(site=site, agent=agent, client_ip=client_ip)
        event_emit(
            site=site,
            kind=EventKind.BREAK_GLASS_USED,
            payload={"agent_id": agent.pk, "use_id": use.pk},
        )
    return use
