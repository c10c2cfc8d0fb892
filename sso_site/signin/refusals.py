"""Reason codes for refused sign-ins, the exception that carries them, and
the one page that shows them.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from sso_site.refusal_sampling import unknown_site_refusal_counted
from sso_site.signin.capture import refusal_capture
from tenants.models import Audience, LoginEvent, Protocol, Site
from tenants.selectors import site_is_usable
from tenants.services import audit_record
from webhooks.services import refusal_emit

logger = logging.getLogger(__name__)


class RefusalReason(StrEnum):
    """Public reason codes; the value is what pages and the audit log show."""

    # The site and the person.
    SITE_DISABLED = "site_disabled"
    UNKNOWN_AGENT = "unknown_agent"
    AGENT_INACTIVE = "agent_inactive"
    WRONG_SITE = "wrong_site"
    SIGNIN_REQUIRED = "signin_required"
    NOT_CONFIGURED = "sso_not_configured"
    BAD_REQUEST = "bad_request"
    UNSAFE_REDIRECT = "unsafe_redirect"
    REPLAY = "replay"
    MFA_REQUIRED = "mfa_required"
    MAPPING_FAILED = "mapping_failed"
    IDENTITY_LOOKALIKE = "identity_lookalike"
    JIT_DOMAIN = "jit_domain_not_allowed"
    # SAML.
    SAML_MALFORMED = "saml_malformed"
    SAML_UNSIGNED = "saml_unsigned"
    SAML_BAD_SIGNATURE = "saml_bad_signature"
    SAML_WEAK_ALGORITHM = "saml_weak_algorithm"
    SAML_EXPIRED = "saml_expired"
    SAML_NOT_YET_VALID = "saml_not_yet_valid"
    SAML_WRONG_AUDIENCE = "saml_wrong_audience"
    SAML_WRONG_RECIPIENT = "saml_wrong_recipient"
    SAML_WRONG_ISSUER = "saml_wrong_issuer"
    SAML_UNSOLICITED = "saml_unsolicited"
    SAML_IN_RESPONSE_TO = "saml_in_response_to"
    SAML_NO_EMAIL = "saml_no_email"
    SAML_IDP_ERROR = "saml_idp_error"
    SAML_TOO_LARGE = "saml_too_large"
    SAML_WRONG_MESSAGE = "saml_wrong_message"
    SAML_SCHEMA_INVALID = "saml_schema_invalid"
    SAML_VERSION = "saml_version"
    SAML_NO_DESTINATION = "saml_no_destination"
    SAML_ISSUER_MISMATCH = "saml_issuer_mismatch"
    SAML_ISSUER_FORMAT = "saml_issuer_format"
    SAML_ASSERTION_COUNT = "saml_assertion_count"
    SAML_NO_AUDIENCE = "saml_no_audience"
    SAML_NOT_BEARER = "saml_not_bearer"
    SAML_NO_EXPIRY = "saml_no_expiry"
    SAML_CONFIRMATION_NOT_BEFORE = "saml_confirmation_not_before"
    SAML_NO_AUTHN_STATEMENT = "saml_no_authn_statement"
    SAML_TOO_OLD = "saml_too_old"
    SAML_ISSUED_IN_FUTURE = "saml_issued_in_future"
    # JWT.
    JWT_MISSING = "jwt_missing"
    JWT_MALFORMED = "jwt_malformed"
    JWT_TOO_LARGE = "jwt_too_large"
    JWT_BAD_ALGORITHM = "jwt_bad_algorithm"
    JWT_BAD_SIGNATURE = "jwt_bad_signature"
    JWT_UNKNOWN_KEY = "jwt_unknown_key"
    JWT_EXPIRED = "jwt_expired"
    JWT_NOT_YET_VALID = "jwt_not_yet_valid"
    JWT_TOO_OLD = "jwt_too_old"
    JWT_MISSING_CLAIM = "jwt_missing_claim"
    JWT_WRONG_ISSUER = "jwt_wrong_issuer"
    JWT_WRONG_AUDIENCE = "jwt_wrong_audience"
    JWT_NO_EMAIL = "jwt_no_email"
    JWKS_UNAVAILABLE = "jwks_unavailable"
    # The chat window and console (JSON answers, no audit row: not sign-ins).
    CHAT_NOT_FOUND = "not_found"
    CHAT_BAD_TOKEN = "bad_token"  # noqa: S105 - a reason code, not a secret
    CHAT_TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a reason code, not a secret
    NO_CHAT = "no_chat"
    NOT_A_GUEST = "not_a_guest"
    CHAT_CLOSED = "chat_closed"
    ANOTHER_VISITOR = "another_visitor"
    HANDOFF_INVALID = "handoff_invalid"
    # The input boundary (``tenants.inputs.InputError`` codes, answered 400).
    BAD_INTEGER = "bad_integer"
    INTEGER_OUT_OF_RANGE = "integer_out_of_range"
    BAD_JSON = "bad_json"
    BAD_TEXT = "bad_text"
    BAD_ENCODING = "bad_encoding"
    BODY_TOO_LARGE = "body_too_large"
    JSON_TOO_DEEP = "json_too_deep"
    UNREADABLE_BODY = "unreadable_body"
    # SAML single logout (issue 9).
    SAML_LOGOUT_UNSIGNED = "saml_logout_unsigned"
    SAML_LOGOUT_BAD_SIGNATURE = "saml_logout_bad_signature"
    SAML_LOGOUT_WRONG_ISSUER = "saml_logout_wrong_issuer"
    SAML_LOGOUT_WRONG_SUBJECT = "saml_logout_wrong_subject"
    SAML_LOGOUT_WRONG_SESSION = "saml_logout_wrong_session"
    SAML_LOGOUT_UNSOLICITED = "saml_logout_unsolicited"
    # Too many attempts (sso_site.ratelimit): HTTP 429 with Retry-After.
    RATE_LIMITED = "rate_limited"
    # OpenID Connect, and the access policy (networks, password, break-glass).
    OIDC_PROVIDER_ERROR = "oidc_provider_error"
    OIDC_STATE_MISMATCH = "oidc_state_mismatch"
    OIDC_CODE_REJECTED = "oidc_code_rejected"
    OIDC_PROVIDER_UNAVAILABLE = "oidc_provider_unavailable"
    OIDC_MALFORMED = "oidc_malformed"
    OIDC_BAD_ALGORITHM = "oidc_bad_algorithm"
    OIDC_UNKNOWN_KEY = "oidc_unknown_key"
    OIDC_BAD_SIGNATURE = "oidc_bad_signature"
    OIDC_WRONG_ISSUER = "oidc_wrong_issuer"
    OIDC_WRONG_AUDIENCE = "oidc_wrong_audience"
    OIDC_WRONG_AZP = "oidc_wrong_azp"
    OIDC_EXPIRED = "oidc_expired"
    OIDC_BAD_IAT = "oidc_bad_iat"
    OIDC_NONCE_MISMATCH = "oidc_nonce_mismatch"
    OIDC_NO_IDENTITY = "oidc_no_identity"
    OIDC_EMAIL_UNVERIFIED = "oidc_email_unverified"
    IP_NOT_ALLOWED = "ip_not_allowed"
    SSO_REQUIRED = "sso_required"
    PASSWORD_INVALID = "password_invalid"  # noqa: S105 (a reason code)
    TOTP_INVALID = "totp_invalid"
    PASSWORD_LOCKED = "password_locked"  # noqa: S105 (a reason code)

    @property
    def message(self) -> str:
        """Return the reason in plain words for the person who was refused."""
        return _MESSAGES.get(self, "The sign-in could not be completed.")

    @property
    def status(self) -> int:
        """Return the HTTP status: 400 for malformed input, 429 for too many, 403 unless listed."""
        if self is RefusalReason.RATE_LIMITED:
            return 429
        return _STATUS.get(self, 400 if self in _BAD_INPUT else 403)


_BAD_INPUT = {
    RefusalReason.BAD_REQUEST,
    RefusalReason.SAML_MALFORMED,
    RefusalReason.SAML_TOO_LARGE,
    RefusalReason.SAML_WRONG_MESSAGE,
    RefusalReason.SAML_SCHEMA_INVALID,
    RefusalReason.JWT_MISSING,
    RefusalReason.JWT_MALFORMED,
    RefusalReason.JWT_TOO_LARGE,
    RefusalReason.BAD_INTEGER,
    RefusalReason.INTEGER_OUT_OF_RANGE,
    RefusalReason.BAD_JSON,
    RefusalReason.BAD_TEXT,
    RefusalReason.BAD_ENCODING,
    RefusalReason.BODY_TOO_LARGE,
    RefusalReason.JSON_TOO_DEEP,
    RefusalReason.UNREADABLE_BODY,
    RefusalReason.OIDC_MALFORMED,
}

_STATUS = {
    RefusalReason.CHAT_NOT_FOUND: 404,
    RefusalReason.CHAT_BAD_TOKEN: 401,
    RefusalReason.CHAT_TOKEN_REVOKED: 401,
    RefusalReason.NO_CHAT: 409,
    RefusalReason.NOT_A_GUEST: 409,
    RefusalReason.CHAT_CLOSED: 409,
    RefusalReason.ANOTHER_VISITOR: 409,
    RefusalReason.PASSWORD_LOCKED: 429,
}

_MESSAGES: dict[RefusalReason, str] = {
    # Unknown and disabled sites read the same, so the page does not tell
    # which site IDs exist.
    RefusalReason.SITE_DISABLED: "This site does not exist or does not accept sign-ins.",
    RefusalReason.UNKNOWN_AGENT: "There is no agent with this account on this site.",
    RefusalReason.AGENT_INACTIVE: "This agent account has been deactivated.",
    RefusalReason.WRONG_SITE: "You are signed in to another site. Sign in to this site first.",
    RefusalReason.SIGNIN_REQUIRED: "You need to sign in first.",
    RefusalReason.NOT_CONFIGURED: "Single sign-on is not set up for this site.",
    RefusalReason.BAD_REQUEST: "The sign-in request was incomplete or malformed.",
    RefusalReason.UNSAFE_REDIRECT: "The address to return to is not one this site allows.",
    RefusalReason.REPLAY: "This sign-in has already been used. Please sign in again.",
    RefusalReason.MFA_REQUIRED: "This site requires multi-factor authentication.",
    RefusalReason.MAPPING_FAILED: (
        "Your account lacks information this site requires, or has it in a form it cannot use."
    ),
    RefusalReason.IDENTITY_LOOKALIKE: (
        "Your account name uses characters this site does not accept. Contact your administrator."
    ),
    RefusalReason.JIT_DOMAIN: "There is no agent with this account on this site.",
    RefusalReason.SAML_MALFORMED: "The identity provider's answer could not be read.",
    RefusalReason.SAML_UNSIGNED: "The identity provider's answer was not signed.",
    RefusalReason.SAML_BAD_SIGNATURE: "The identity provider's signature is not valid.",
    RefusalReason.SAML_WEAK_ALGORITHM: "The identity provider used a weak algorithm.",
    RefusalReason.SAML_EXPIRED: "The identity provider's answer has expired.",
    RefusalReason.SAML_NOT_YET_VALID: "The identity provider's answer is not valid yet.",
    RefusalReason.SAML_WRONG_AUDIENCE: "The answer was meant for another service.",
    RefusalReason.SAML_WRONG_RECIPIENT: "The answer was sent to the wrong address.",
    RefusalReason.SAML_WRONG_ISSUER: "The answer came from an untrusted identity provider.",
    RefusalReason.SAML_UNSOLICITED: "This site accepts only sign-ins started from this page.",
    RefusalReason.SAML_IN_RESPONSE_TO: "The answer is not for a sign-in started here.",
    RefusalReason.SAML_NO_EMAIL: "The identity provider did not send an email address.",
    RefusalReason.SAML_IDP_ERROR: "The identity provider refused the sign-in.",
    RefusalReason.SAML_TOO_LARGE: "The identity provider's answer is too large.",
    RefusalReason.SAML_WRONG_MESSAGE: "The message received is not a sign-in answer.",
    RefusalReason.SAML_SCHEMA_INVALID: "The identity provider's answer is not valid SAML.",
    RefusalReason.SAML_VERSION: "The identity provider's answer is not SAML 2.0.",
    RefusalReason.SAML_NO_DESTINATION: "The answer does not say where it was sent.",
    RefusalReason.SAML_ISSUER_MISMATCH: "The answer and its assertion name different issuers.",
    RefusalReason.SAML_ISSUER_FORMAT: "The answer's issuer is not an entity identifier.",
    RefusalReason.SAML_ASSERTION_COUNT: "The answer must carry exactly one assertion.",
    RefusalReason.SAML_NO_AUDIENCE: "The answer does not say which service it is for.",
    RefusalReason.SAML_NOT_BEARER: "The answer is not a bearer assertion.",
    RefusalReason.SAML_NO_EXPIRY: "The answer does not say until when it is valid.",
    RefusalReason.SAML_CONFIRMATION_NOT_BEFORE: "The answer's confirmation has a start time.",
    RefusalReason.SAML_NO_AUTHN_STATEMENT: "The answer does not say when you signed in.",
    RefusalReason.SAML_TOO_OLD: "The sign-in at the identity provider is too old.",
    RefusalReason.SAML_ISSUED_IN_FUTURE: "The identity provider's answer is dated in the future.",
    RefusalReason.JWT_MISSING: "No sign-in token was received.",
    RefusalReason.JWT_MALFORMED: "The sign-in token could not be read.",
    RefusalReason.JWT_TOO_LARGE: "The sign-in token is too large.",
    RefusalReason.JWT_BAD_ALGORITHM: "The token uses an algorithm this site refuses.",
    RefusalReason.JWT_BAD_SIGNATURE: "The sign-in token's signature is not valid.",
    RefusalReason.JWT_UNKNOWN_KEY: "The token was signed with an unknown key.",
    RefusalReason.JWT_EXPIRED: "The sign-in token has expired.",
    RefusalReason.JWT_NOT_YET_VALID: "The sign-in token is not valid yet.",
    RefusalReason.JWT_TOO_OLD: "The sign-in token was issued too long ago.",
    RefusalReason.JWT_MISSING_CLAIM: "The sign-in token lacks a required claim.",
    RefusalReason.JWT_WRONG_ISSUER: "The token comes from an untrusted issuer.",
    RefusalReason.JWT_WRONG_AUDIENCE: "The sign-in token was meant for another service.",
    RefusalReason.JWT_NO_EMAIL: "The sign-in token does not name an email address.",
    RefusalReason.JWKS_UNAVAILABLE: "The signing keys could not be fetched; try again.",
    RefusalReason.CHAT_NOT_FOUND: "There is no such chat window.",
    RefusalReason.CHAT_BAD_TOKEN: "The chat window's credential is not valid; reload it.",
    RefusalReason.CHAT_TOKEN_REVOKED: "This chat window was signed out; its credential is revoked.",
    RefusalReason.NO_CHAT: "Start a chat first.",
    RefusalReason.NOT_A_GUEST: "The visitor is already signed in.",
    RefusalReason.CHAT_CLOSED: "This chat has ended.",
    RefusalReason.ANOTHER_VISITOR: "This chat belongs to another visitor.",
    RefusalReason.HANDOFF_INVALID: "The sign-in could not be handed to the chat window.",
    # SAML single logout (issue 9).
    RefusalReason.SAML_LOGOUT_UNSIGNED: "The sign-out request was not signed.",
    RefusalReason.SAML_LOGOUT_BAD_SIGNATURE: "The sign-out request's signature is not valid.",
    RefusalReason.SAML_LOGOUT_WRONG_ISSUER: "The sign-out came from an untrusted provider.",
    RefusalReason.SAML_LOGOUT_WRONG_SUBJECT: "The sign-out request names someone else.",
    RefusalReason.SAML_LOGOUT_WRONG_SESSION: "The sign-out request names another session.",
    RefusalReason.SAML_LOGOUT_UNSOLICITED: "This sign-out answer is for no sign-out started here.",
    RefusalReason.RATE_LIMITED: "Too many attempts. Please wait a moment and try again.",
    RefusalReason.OIDC_PROVIDER_ERROR: "The identity provider refused the sign-in.",
    RefusalReason.OIDC_STATE_MISMATCH: "This answer is not for a sign-in started in this browser.",
    RefusalReason.OIDC_CODE_REJECTED: "The identity provider did not accept the sign-in code.",
    RefusalReason.OIDC_PROVIDER_UNAVAILABLE: "The identity provider could not be reached.",
    RefusalReason.OIDC_MALFORMED: "The identity provider's answer could not be read.",
    RefusalReason.OIDC_BAD_ALGORITHM: "The ID token uses an algorithm this site refuses.",
    RefusalReason.OIDC_UNKNOWN_KEY: "The ID token was signed with an unknown key.",
    RefusalReason.OIDC_BAD_SIGNATURE: "The ID token's signature is not valid.",
    RefusalReason.OIDC_WRONG_ISSUER: "The ID token comes from an untrusted issuer.",
    RefusalReason.OIDC_WRONG_AUDIENCE: "The ID token was meant for another service.",
    RefusalReason.OIDC_WRONG_AZP: "The ID token was issued to another client.",
    RefusalReason.OIDC_EXPIRED: "The ID token has expired.",
    RefusalReason.OIDC_BAD_IAT: "The ID token's issue time is not acceptable.",
    RefusalReason.OIDC_NONCE_MISMATCH: "The ID token is not for the sign-in started here.",
    RefusalReason.OIDC_NO_IDENTITY: "The identity provider did not send the expected identity.",
    RefusalReason.OIDC_EMAIL_UNVERIFIED: "The identity provider has not verified this email.",
    RefusalReason.IP_NOT_ALLOWED: "This site does not accept agents from your network.",
    RefusalReason.SSO_REQUIRED: "This site requires single sign-on for your account.",
    RefusalReason.PASSWORD_INVALID: "The email or password is not correct.",
    RefusalReason.TOTP_INVALID: "The one-time code is not correct.",
    RefusalReason.PASSWORD_LOCKED: "Too many failed attempts; try again later.",
}


class SignInRefused(PermissionDenied):
    """A sign-in was refused for ``reason``; nothing was written to the session.

    A ``PermissionDenied`` subclass, so djangosaml2's ``post()`` routes it to
    ``handle_acs_failure`` and Django's 403 handling applies elsewhere.
    """

    def __init__(
        self,
        reason: RefusalReason,
        *,
        site: Site | None = None,
        audience: Audience | None = None,
        protocol: Protocol | None = None,
        subject: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.site = site
        self.audience = audience
        self.protocol = protocol
        self.subject = subject
        self.detail = detail or {}


def render_refusal(
    request: HttpRequest,
    refusal: SignInRefused,
    *,
    site: Site | None = None,
    audience: Audience | None = None,
    protocol: Protocol | None = None,
) -> HttpResponse:
    """Record ``refusal`` in the audit log and return the refusal page.

    Keyword arguments fill in what the exception did not know when raised.
    """
    site = refusal.site or site
    audience = refusal.audience or audience or Audience.AGENT
    protocol = refusal.protocol or protocol
    event = None
    if site is None and unknown_site_refusal_counted(refusal.reason.value):
        pass  # an unknown site: counted, not one row each (sso_site.refusal_sampling)
    else:
        event = audit_record(
            request,
            site=site,
            audience=audience,
            protocol=protocol,
            outcome=LoginEvent.Outcome.REFUSED,
            reason=refusal.reason.value,
            subject=refusal.subject,
            # Issue 15: a redacted, dated copy of what came in, for the console.
            detail={**refusal.detail, **refusal_capture(request, protocol=protocol)},
        )
    # One line per refusal, no personal data: the audit row is the reference.
    logger.info(
        "sign-in refused: reason=%s check=%s site=%s audience=%s protocol=%s ref=%s",
        refusal.reason,
        str(refusal.detail.get("check", ""))[:40],
        site.site_id if site else None,
        audience,
        protocol or "",
        event.pk if event is not None else "counted",
    )
    refusal_emit(site=site, audience=audience, protocol=protocol, reason=refusal.reason.value)
    response = TemplateResponse(
        request,
        "sso/refused.html",
        {"reason": refusal.reason, "site": site if site_is_usable(site) else None},
        status=refusal.reason.status,
    )
    response["Cache-Control"] = "no-store"
    return response
