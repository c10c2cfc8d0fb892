"""Checks of a *verified* SAML response, made here rather than left to pysaml2.

``authn_response_check`` reads the objects pysaml2 returns once the
signature verified and any EncryptedAssertion was decrypted: the Response
(``AuthnResponse.response``) and its one assertion (``AuthnResponse.assertion``).
Every rule of the Web Browser SSO profile that the service provider must
enforce is checked explicitly; none relies on pysaml2's ``for_me()`` or its
handling of optional fields. Each failure raises SignInRefused with its own
reason code and ``detail["check"]`` naming the rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from saml2.saml import NAMEID_FORMAT_ENTITY, SCM_BEARER
from saml2.samlp import STATUS_SUCCESS

from sso.checktrace import check_passed
from sso_site.signin.refusals import RefusalReason, SignInRefused

R = RefusalReason
_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z")


@dataclass(frozen=True)
class Expected:
    """What this SP expects of a response: from its settings and the request."""

    acs_url: str
    sp_entity_id: str
    idp_entity_id: str
    max_age: dt.timedelta
    skew: dt.timedelta
    now: dt.datetime


def authn_response_check(authn_response: Any, *, expected: Expected) -> None:
    """Raise SignInRefused unless the verified ``authn_response`` passes
    every check; ``authn_response`` is pysaml2's ``AuthnResponse``.
    """
    response = authn_response.response
    assertions = list(getattr(authn_response, "assertions", None) or [])
    if not assertions and authn_response.assertion is not None:
        assertions = [authn_response.assertion]
    _status_check(response)
    _refuse_unless(response.version == "2.0", R.SAML_VERSION, "response_version")
    _refuse_unless(response.destination, R.SAML_NO_DESTINATION, "response_destination")
    _refuse_unless(
        response.destination == expected.acs_url, R.SAML_WRONG_RECIPIENT, "response_destination"
    )
    # pysaml2's ``assertions``: every verified assertion, decrypted ones
    # included (the message's own count was checked before: one).
    _refuse_unless(len(assertions) == 1, R.SAML_ASSERTION_COUNT, "one_assertion")
    assertion = assertions[0]
    _refuse_unless(assertion.version == "2.0", R.SAML_VERSION, "assertion_version")
    _issuers_check(response, assertion, expected)
    _audience_check(assertion, expected)
    _confirmation_check(assertion, response.in_response_to, expected)
    _instants_check(response, assertion, expected)


def _refuse_unless(ok: Any, reason: RefusalReason, check: str, **detail: Any) -> None:
    if not ok:
        raise SignInRefused(reason, detail={"check": check, **detail})
    check_passed(check, **detail)


def _status_check(response: Any) -> None:
    code = getattr(getattr(response.status, "status_code", None), "value", None)
    _refuse_unless(code == STATUS_SUCCESS, R.SAML_IDP_ERROR, "status_success")


def _issuers_check(response: Any, assertion: Any, expected: Expected) -> None:
    issuer = assertion.issuer
    _refuse_unless(issuer is not None and issuer.text, R.SAML_WRONG_ISSUER, "assertion_issuer")
    _refuse_unless(
        issuer.format in (None, NAMEID_FORMAT_ENTITY), R.SAML_ISSUER_FORMAT, "assertion_issuer"
    )
    _refuse_unless(
        issuer.text.strip() == expected.idp_entity_id, R.SAML_WRONG_ISSUER, "assertion_issuer"
    )
    if response.issuer is None:
        return
    outer = response.issuer
    _refuse_unless(
        outer.format in (None, NAMEID_FORMAT_ENTITY), R.SAML_ISSUER_FORMAT, "response_issuer"
    )
    _refuse_unless(
        (outer.text or "").strip() == issuer.text.strip(), R.SAML_ISSUER_MISMATCH, "response_issuer"
    )
    _refuse_unless(
        (outer.text or "").strip() == expected.idp_entity_id, R.SAML_WRONG_ISSUER, "response_issuer"
    )


def _audience_check(assertion: Any, expected: Expected) -> None:
    conditions = assertion.conditions
    _refuse_unless(conditions is not None, R.SAML_NO_AUDIENCE, "conditions")
    restrictions = conditions.audience_restriction or []
    _refuse_unless(restrictions, R.SAML_NO_AUDIENCE, "audience_restriction")
    for restriction in restrictions:
        audiences = {(a.text or "").strip() for a in restriction.audience or []}
        _refuse_unless(expected.sp_entity_id in audiences, R.SAML_WRONG_AUDIENCE, "audience")
    now, skew = expected.now, expected.skew
    if conditions.not_before:
        _refuse_unless(
            saml_instant(conditions.not_before) <= now + skew,
            R.SAML_NOT_YET_VALID,
            "conditions_not_before",
        )
    if conditions.not_on_or_after:
        _refuse_unless(
            now - skew < saml_instant(conditions.not_on_or_after),
            R.SAML_EXPIRED,
            "conditions_not_on_or_after",
        )


def _confirmation_check(assertion: Any, in_response_to: str | None, expected: Expected) -> None:
    subject = assertion.subject
    confirmations = list(getattr(subject, "subject_confirmation", None) or [])
    bearers = [c for c in confirmations if c.method == SCM_BEARER]
    methods = sorted(str(c.method)[:80] for c in confirmations)
    _refuse_unless(bearers, R.SAML_NOT_BEARER, "bearer", methods=methods)
    failures: list[SignInRefused] = []
    for bearer in bearers:
        try:
            _bearer_check(bearer.subject_confirmation_data, in_response_to, expected)
        except SignInRefused as exc:
            failures.append(exc)
        else:
            return  # one bearer confirmation that meets every rule suffices
    raise failures[0]


def _bearer_check(data: Any, in_response_to: str | None, expected: Expected) -> None:
    _refuse_unless(data is not None, R.SAML_NO_EXPIRY, "confirmation_data")
    _refuse_unless(
        data.recipient == expected.acs_url, R.SAML_WRONG_RECIPIENT, "confirmation_recipient"
    )
    _refuse_unless(data.not_on_or_after, R.SAML_NO_EXPIRY, "confirmation_not_on_or_after")
    _refuse_unless(
        expected.now - expected.skew < saml_instant(data.not_on_or_after),
        R.SAML_EXPIRED,
        "confirmation_not_on_or_after",
    )
    _refuse_unless(
        (data.in_response_to or None) == (in_response_to or None),
        R.SAML_IN_RESPONSE_TO,
        "confirmation_in_response_to",
    )
    _refuse_unless(not data.not_before, R.SAML_CONFIRMATION_NOT_BEFORE, "confirmation_not_before")


def _instants_check(response: Any, assertion: Any, expected: Expected) -> None:
    statements = assertion.authn_statement or []
    _refuse_unless(statements, R.SAML_NO_AUTHN_STATEMENT, "authn_statement")
    instants = [
        ("response_issue_instant", response.issue_instant),
        ("assertion_issue_instant", assertion.issue_instant),
        *(("authn_instant", s.authn_instant) for s in statements),
    ]
    for check, value in instants:
        _refuse_unless(value, R.SAML_MALFORMED, check)
        moment = saml_instant(value)
        _refuse_unless(moment <= expected.now + expected.skew, R.SAML_ISSUED_IN_FUTURE, check)
        _refuse_unless(
            expected.now - moment <= expected.max_age + expected.skew, R.SAML_TOO_OLD, check
        )


def saml_instant(value: str | None) -> dt.datetime:
    """Return the SAML time ``value`` as an aware UTC datetime, or raise
    SignInRefused. SAML times are xs:dateTime in UTC with a "Z" (SAML core
    1.3.3); fractional seconds are allowed and ignored.
    """
    match = _INSTANT.fullmatch(value or "")
    try:
        if match is None:
            raise ValueError("not a SAML time")
        return dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise SignInRefused(R.SAML_MALFORMED, detail={"check": "date_time"}) from exc
