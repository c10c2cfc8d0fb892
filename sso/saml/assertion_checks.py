"""Checks of a *verified* SAML response, made here rather than left to a library.

``authn_response_check`` reads the Response and its one assertion once the
signatures verified and any EncryptedAssertion was decrypted
(``sso.saml.verify``), as lxml elements. Every rule of the Web Browser SSO
profile that the service provider must enforce is checked explicitly, and
so is every rule pysaml2 used to apply on top (one AuthnStatement, its
SessionNotOnOrAfter, the Conditions window, no unknown Condition, the
confirmation methods, addresses and InResponseTo of every confirmation).
Each failure raises SignInRefused with its own reason code and
``detail["check"]`` naming the rule.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from sso.checktrace import check_passed
from sso_site.signin.refusals import RefusalReason, SignInRefused

R = RefusalReason
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
_STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
SCM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_KNOWN_METHODS = frozenset(
    {
        SCM_BEARER,
        "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key",
        "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches",
    }
)
_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z", re.ASCII)


@dataclass(frozen=True)
class Expected:
    """What this SP expects of a response: from its settings and the request."""

    acs_url: str
    sp_entity_id: str
    idp_entity_id: str
    max_age: dt.timedelta
    skew: dt.timedelta
    now: dt.datetime


def saml(element: Any, path: str) -> Any:
    """Return the first ``path`` ('Subject/NameID') below ``element`` in
    the assertion namespace, or None.
    """
    return element.find("/".join(f"{{{_SAML}}}{part}" for part in path.split("/")))


def saml_all(element: Any, path: str) -> list[Any]:
    """Return every ``path`` below ``element`` in the assertion namespace."""
    found: list[Any] = element.findall("/".join(f"{{{_SAML}}}{part}" for part in path.split("/")))
    return found


def authn_response_check(response: Any, assertion: Any, *, expected: Expected) -> None:
    """Raise SignInRefused unless the verified Response ``response`` and
    its one ``assertion`` (lxml elements) pass every check.
    """
    status = response.find(f"{{{_SAMLP}}}Status/{{{_SAMLP}}}StatusCode")
    _refuse_unless(
        status is not None and status.get("Value") == _STATUS_SUCCESS,
        R.SAML_IDP_ERROR,
        "status_success",
    )
    _refuse_unless(response.get("Version") == "2.0", R.SAML_VERSION, "response_version")
    destination = response.get("Destination")
    _refuse_unless(destination, R.SAML_NO_DESTINATION, "response_destination")
    _refuse_unless(destination == expected.acs_url, R.SAML_WRONG_RECIPIENT, "response_destination")
    count = len(saml_all(response, "Assertion")) + len(saml_all(response, "EncryptedAssertion"))
    _refuse_unless(count == 1, R.SAML_ASSERTION_COUNT, "one_assertion")
    _refuse_unless(assertion.get("Version") == "2.0", R.SAML_VERSION, "assertion_version")
    _issuers_check(response, assertion, expected)
    _audience_check(assertion, expected)
    _confirmation_check(assertion, response.get("InResponseTo"), expected)
    _instants_check(response, assertion, expected)


def _refuse_unless(ok: Any, reason: RefusalReason, check: str, **detail: Any) -> None:
    if not ok:
        raise SignInRefused(reason, detail={"check": check, **detail})
    check_passed(check, **detail)


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _issuers_check(response: Any, assertion: Any, expected: Expected) -> None:
    issuer = saml(assertion, "Issuer")
    _refuse_unless(_text(issuer), R.SAML_WRONG_ISSUER, "assertion_issuer")
    _refuse_unless(
        issuer.get("Format") in (None, _ENTITY), R.SAML_ISSUER_FORMAT, "assertion_issuer"
    )
    _refuse_unless(_text(issuer) == expected.idp_entity_id, R.SAML_WRONG_ISSUER, "assertion_issuer")
    outer = saml(response, "Issuer")
    if outer is None:
        return
    _refuse_unless(outer.get("Format") in (None, _ENTITY), R.SAML_ISSUER_FORMAT, "response_issuer")
    _refuse_unless(_text(outer) == _text(issuer), R.SAML_ISSUER_MISMATCH, "response_issuer")
    _refuse_unless(_text(outer) == expected.idp_entity_id, R.SAML_WRONG_ISSUER, "response_issuer")


def _audience_check(assertion: Any, expected: Expected) -> None:
    conditions = saml(assertion, "Conditions")
    _refuse_unless(conditions is not None, R.SAML_NO_AUDIENCE, "conditions")
    restrictions = saml_all(conditions, "AudienceRestriction")
    _refuse_unless(restrictions, R.SAML_NO_AUDIENCE, "audience_restriction")
    for restriction in restrictions:
        audiences = {_text(a) for a in saml_all(restriction, "Audience")}
        _refuse_unless(expected.sp_entity_id in audiences, R.SAML_WRONG_AUDIENCE, "audience")
    # A Condition of a type this SP does not know cannot be met (SAML core 2.5.1).
    _refuse_unless(not saml_all(conditions, "Condition"), R.SAML_MALFORMED, "conditions_unknown")
    now, skew = expected.now, expected.skew
    not_before, not_on_or_after = conditions.get("NotBefore"), conditions.get("NotOnOrAfter")
    if not_before:
        _refuse_unless(
            saml_instant(not_before) <= now + skew, R.SAML_NOT_YET_VALID, "conditions_not_before"
        )
    if not_on_or_after:
        _refuse_unless(
            now - skew < saml_instant(not_on_or_after),
            R.SAML_EXPIRED,
            "conditions_not_on_or_after",
        )
    if not_before and not_on_or_after:
        _refuse_unless(
            saml_instant(not_before) < saml_instant(not_on_or_after),
            R.SAML_MALFORMED,
            "conditions_window",
        )


def _confirmation_check(assertion: Any, in_response_to: str | None, expected: Expected) -> None:
    confirmations = saml_all(assertion, "Subject/SubjectConfirmation")
    methods = [str(c.get("Method", "")) for c in confirmations]
    bearers = [c for c in confirmations if c.get("Method") == SCM_BEARER]
    _refuse_unless(bearers, R.SAML_NOT_BEARER, "bearer", methods=sorted(m[:80] for m in methods))
    _refuse_unless(set(methods) <= _KNOWN_METHODS, R.SAML_MALFORMED, "confirmation_method")
    # Every confirmation answers the same request as the Response.
    for confirmation in confirmations:
        data = saml(confirmation, "SubjectConfirmationData")
        if data is not None:
            _refuse_unless(
                (data.get("InResponseTo") or None) == (in_response_to or None),
                R.SAML_IN_RESPONSE_TO,
                "confirmation_in_response_to",
            )
    for bearer in bearers:  # each bearer confirmation meets every rule
        _bearer_check(saml(bearer, "SubjectConfirmationData"), expected)


def _bearer_check(data: Any, expected: Expected) -> None:
    _refuse_unless(data is not None, R.SAML_NO_EXPIRY, "confirmation_data")
    _refuse_unless(
        data.get("Recipient") == expected.acs_url, R.SAML_WRONG_RECIPIENT, "confirmation_recipient"
    )
    not_on_or_after = data.get("NotOnOrAfter")
    _refuse_unless(not_on_or_after, R.SAML_NO_EXPIRY, "confirmation_not_on_or_after")
    _refuse_unless(
        expected.now - expected.skew < saml_instant(not_on_or_after),
        R.SAML_EXPIRED,
        "confirmation_not_on_or_after",
    )
    _refuse_unless(
        not data.get("NotBefore"), R.SAML_CONFIRMATION_NOT_BEFORE, "confirmation_not_before"
    )
    address = data.get("Address")
    if address is not None:
        _refuse_unless(_is_address(address), R.SAML_MALFORMED, "confirmation_address")


def _is_address(value: str) -> bool:
    raw = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        return False
    return True


def _instants_check(response: Any, assertion: Any, expected: Expected) -> None:
    statements = saml_all(assertion, "AuthnStatement")
    _refuse_unless(statements, R.SAML_NO_AUTHN_STATEMENT, "authn_statement")
    _refuse_unless(len(statements) == 1, R.SAML_NO_AUTHN_STATEMENT, "one_authn_statement")
    instants = [
        ("response_issue_instant", response.get("IssueInstant")),
        ("assertion_issue_instant", assertion.get("IssueInstant")),
        *(("authn_instant", s.get("AuthnInstant")) for s in statements),
    ]
    for check, value in instants:
        _refuse_unless(value, R.SAML_MALFORMED, check)
        moment = saml_instant(value)
        _refuse_unless(moment <= expected.now + expected.skew, R.SAML_ISSUED_IN_FUTURE, check)
        _refuse_unless(
            expected.now - moment <= expected.max_age + expected.skew, R.SAML_TOO_OLD, check
        )
    session_end = statements[0].get("SessionNotOnOrAfter")
    if session_end:
        _refuse_unless(
            expected.now - expected.skew < saml_instant(session_end),
            R.SAML_EXPIRED,
            "session_not_on_or_after",
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
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError as exc:
        raise SignInRefused(R.SAML_MALFORMED, detail={"check": "date_time"}) from exc
