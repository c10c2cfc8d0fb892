"""Verify a site's JWT and return its claims, or refuse with the precise reason."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt.types import Options

from sso.checktrace import check_passed
from sso.jwt.keys import JwksUnavailableError, VerificationKey, key_use_record, site_keys
from sso.jwt.models import JwtSettings
from sso_site.signin.identity import SingleUse
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.identity_keys import IdentityError, email_subject, subject_validate
from tenants.inputs import printable, text_clean_deep
from tenants.models import Audience, Protocol, Site
from tenants.selectors import token_is_unused
from tenants.services import token_consume

logger = logging.getLogger(__name__)

JTI_KIND = "jwt_jti"
JTI_MAX_LENGTH = 255

# PyJWT's exceptions, most specific first (several subclass DecodeError).
_DECODE_ERRORS: list[tuple[type[jwt.PyJWTError], RefusalReason]] = [
    (jwt.ExpiredSignatureError, RefusalReason.JWT_EXPIRED),
    (jwt.ImmatureSignatureError, RefusalReason.JWT_NOT_YET_VALID),
    (jwt.MissingRequiredClaimError, RefusalReason.JWT_MISSING_CLAIM),
    (jwt.InvalidIssuerError, RefusalReason.JWT_WRONG_ISSUER),
    (jwt.InvalidAudienceError, RefusalReason.JWT_WRONG_AUDIENCE),
    (jwt.InvalidAlgorithmError, RefusalReason.JWT_BAD_ALGORITHM),
    (jwt.InvalidSignatureError, RefusalReason.JWT_BAD_SIGNATURE),
    (jwt.InvalidKeyError, RefusalReason.JWT_BAD_SIGNATURE),
]

# The failed check each reason names in the audit detail (issue 15).
_CHECKS = {
    RefusalReason.JWT_MISSING: "token",
    RefusalReason.JWT_TOO_LARGE: "size",
    RefusalReason.JWT_MALFORMED: "header",
    RefusalReason.JWT_BAD_ALGORITHM: "algorithm",
    RefusalReason.JWKS_UNAVAILABLE: "key",
    RefusalReason.JWT_UNKNOWN_KEY: "key",
    RefusalReason.JWT_BAD_SIGNATURE: "signature_and_times",
    RefusalReason.JWT_EXPIRED: "signature_and_times",
    RefusalReason.JWT_NOT_YET_VALID: "signature_and_times",
    RefusalReason.JWT_MISSING_CLAIM: "signature_and_times",
    RefusalReason.JWT_WRONG_ISSUER: "signature_and_times",
    RefusalReason.JWT_WRONG_AUDIENCE: "signature_and_times",
    RefusalReason.JWT_TOO_OLD: "max_age",
    RefusalReason.JWT_NO_EMAIL: "subject",
    RefusalReason.MFA_REQUIRED: "mfa",
    RefusalReason.REPLAY: "replay",
}


def verify_site_jwt(
    *,
    site: Site,
    settings: JwtSettings,
    token: str | None,
    dry_run: bool = False,
    consume: bool = True,
) -> dict[str, Any]:
    """Return the claims of ``token`` if ``site`` may accept it, else raise.

    Checks, in order: size, the header's ``alg`` against the site's one
    algorithm, the key (by ``kid``), signature, ``exp``/``nbf``/``iat``
    with leeway, ``iss``/``aud`` where configured, the maximum age,
    ``email``, MFA, and last the single use of ``jti``, so that a token is
    consumed only once everything else about it is known to be good.
    A ``dry_run`` (the troubleshooting console) only looks the ``jti`` up;
    with ``consume`` off the caller spends it (``jwt_single_use``, which
    ``sign_in()`` spends in its own transaction).
    """
    refuse = _Refuser(site, settings.audience)
    if not token:
        raise refuse(RefusalReason.JWT_MISSING)
    if len(token.encode()) > settings.max_token_bytes:
        raise refuse(RefusalReason.JWT_TOO_LARGE, size=len(token))
    check_passed("size", size=len(token), limit=settings.max_token_bytes)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise refuse(RefusalReason.JWT_MALFORMED) from None
    check_passed("header")
    kid = header.get("kid")
    kid = kid if isinstance(kid, str) else None
    if header.get("alg") != settings.algorithm:
        # Also refuses "none" and HS256 signed with our public key: the site
        # names one algorithm and no token can choose another.
        raise refuse(RefusalReason.JWT_BAD_ALGORITHM, alg=str(header.get("alg"))[:20])
    check_passed("algorithm", alg=header.get("alg"), expected=settings.algorithm)
    try:
        keys = site_keys(config=settings, kid=kid)
    except JwksUnavailableError as exc:
        logger.warning("jwks unavailable site=%s: %s", site.site_id, exc)
        raise refuse(RefusalReason.JWKS_UNAVAILABLE) from None
    if not keys:
        raise refuse(RefusalReason.JWT_UNKNOWN_KEY, kid=kid or "")
    check_passed("key", kid=kid or "(none)", candidates=len(keys))
    claims = _decode(token, keys=keys, settings=settings, refuse=refuse, record_use=not dry_run)
    _check_claims(claims, settings=settings, refuse=refuse)
    if dry_run or consume:
        once = jwt_single_use(site=site, settings=settings, claims=claims)
        spend = token_is_unused if dry_run else token_consume
        if not spend(site=site, kind=once.kind, value=once.value, expires_at=once.expires_at):
            raise once.replay
        check_passed("replay", jti=once.value, dry_run=dry_run)
    # PostgreSQL stores no NUL (nor a lone surrogate) in text: a name or
    # mapped claim holding one would fail a write deep in the sign-in, so
    # claims are cleaned here (see tenants.inputs for the policy).
    cleaned: dict[str, Any] = text_clean_deep(claims)
    return cleaned


def jwt_single_use(*, site: Site, settings: JwtSettings, claims: dict[str, Any]) -> SingleUse:
    """Return the single use of verified ``claims``: their ``jti``, kept
    until the token's expiry plus leeway, refused as a replay once spent.
    """
    jti = claims["jti"]
    refuse = _Refuser(site, settings.audience)
    return SingleUse(
        kind=JTI_KIND,
        value=jti,
        expires_at=datetime.fromtimestamp(int(claims["exp"]) + settings.leeway, tz=UTC),
        replay=refuse(
            RefusalReason.REPLAY, subject=jwt_subject(claims, audience=settings.audience), jti=jti
        ),
    )


class _Refuser:
    """Build SignInRefused for one site and audience, with a small detail."""

    def __init__(self, site: Site, audience: str) -> None:
        self.site = site
        self.audience = Audience(audience)

    def __call__(self, reason: RefusalReason, *, subject: str = "", **detail: Any) -> SignInRefused:
        return SignInRefused(
            reason,
            site=self.site,
            audience=self.audience,
            protocol=Protocol.JWT,
            # Token values reach the audit log: nothing unprintable, nothing long.
            subject=printable(subject, 254),
            detail={
                "check": _CHECKS.get(reason, reason.value),
                **{key: printable(str(value), 100) for key, value in detail.items()},
            },
        )


def _decode(
    token: str,
    *,
    keys: tuple[VerificationKey, ...],
    settings: JwtSettings,
    refuse: _Refuser,
    record_use: bool = True,
) -> dict[str, Any]:
    options: Options = {
        "require": ["exp", "iat", "jti"],
        "verify_aud": bool(settings.expected_audience),
    }
    error: jwt.PyJWTError | None = None
    for candidate in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                candidate.key,
                algorithms=[settings.algorithm],
                options=options,
                audience=settings.expected_audience or None,
                issuer=settings.expected_issuer or None,
                leeway=settings.leeway,
            )
        except jwt.InvalidSignatureError as exc:
            error = exc  # during a rotation the other key may fit
            continue
        except jwt.PyJWTError as exc:
            error = exc
            break
        if record_use:  # a dry run (troubleshooting console) writes nothing
            key_use_record(config=settings, key=candidate)
        check_passed(
            "signature_and_times",
            key=candidate.kid or "(no kid)",
            issuer=settings.expected_issuer or "(not checked)",
            audience=settings.expected_audience or "(not checked)",
            leeway=f"{settings.leeway} s",
        )
        return claims
    for error_type, reason in _DECODE_ERRORS:
        if isinstance(error, error_type):
            detail = (
                {"claim": error.claim} if isinstance(error, jwt.MissingRequiredClaimError) else {}
            )
            raise refuse(reason, **detail)
    raise refuse(RefusalReason.JWT_MALFORMED)


def _check_claims(claims: dict[str, Any], *, settings: JwtSettings, refuse: _Refuser) -> None:
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti.isprintable() or not 0 < len(jti) <= JTI_MAX_LENGTH:
        raise refuse(RefusalReason.JWT_MALFORMED, claim="jti")
    iat, exp = int(claims["iat"]), int(claims["exp"])
    # exp - iat bounds how long a stolen token lives; iat's own age catches
    # a token minted long ago with a far exp.
    if exp - iat > settings.max_age or time.time() - iat > settings.max_age + settings.leeway:
        raise refuse(RefusalReason.JWT_TOO_OLD, jti=jti)
    check_passed("max_age", token_lifetime=f"{exp - iat} s", max_age=f"{settings.max_age} s")
    email = jwt_subject(claims, audience=settings.audience)
    if not email:
        if settings.audience == Audience.VISITOR:
            raise refuse(RefusalReason.JWT_MISSING_CLAIM, claim="external_id", jti=jti)
        raise refuse(RefusalReason.JWT_NO_EMAIL, jti=jti)
    check_passed("subject")
    if settings.mfa_required:
        amr = claims.get("amr")
        methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
        if not methods & settings.accepted_amr:
            raise refuse(RefusalReason.MFA_REQUIRED, subject=email, jti=jti)
    check_passed("mfa", required=settings.mfa_required)


def jwt_subject(claims: dict[str, Any], *, audience: str) -> str:
    """Return who the token names: an agent's email; a visitor's external_id or sub."""
    if audience == Audience.VISITOR:
        for claim in ("external_id", "sub"):
            value = claims.get(claim)
            if isinstance(value, str | int) and not isinstance(value, bool):
                try:
                    return subject_validate(str(value))
                except IdentityError:
                    continue
        return ""
    # A look-alike goes on to the session layer, which refuses it with its
    # own reason (identity_lookalike) rather than "no email".
    return email_subject(claims.get("email"))
