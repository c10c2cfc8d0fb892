"""Checks of a SAMLResponse that pysaml2 does not make, or does not name.

``response_precheck`` runs before any signature is verified: size, safe
parsing (no DTD, no entities), the root element, version, signature
algorithms, Destination, IssueInstant, and InResponseTo against this
browser's outstanding requests for this site and audience; it returns the
parsed document, which ``sso.saml.verify`` and ``assertion_checks`` read
(nothing parses the message again). ``refusal_for`` turns pysaml2's
exceptions into our reason codes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

import lxml.etree
from saml2.response import (
    IncorrectlySigned,
    StatusError,
    UnsolicitedResponse,
    VerificationError,
)
from saml2.s_utils import RequestVersionTooHigh, RequestVersionTooLow
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from sso.checktrace import check_passed
from sso.saml.assertion_checks import saml_instant
from sso.saml.config import CLOCK_LEEWAY
from sso.saml.crypto import xml_parse
from sso_site.signin.refusals import RefusalReason, SignInRefused

RESPONSE_MAX_BYTES = 256 * 1024
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
WEAK_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#sha1",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
        "http://www.w3.org/2001/04/xmldsig-more#md5",
    }
)


@dataclass(frozen=True)
class Prechecked:
    """The parsed Response (lxml) and its assertion's ID ("" if encrypted)."""

    root: Any
    assertion_id: str


def response_precheck(
    encoded: str,
    *,
    acs_url: str,
    allow_sha1: bool,
    allow_unsolicited: bool,
    outstanding: dict[str, Any],
    now: dt.datetime,
    max_age: dt.timedelta,
) -> Prechecked:
    """Check the base64 ``encoded`` SAMLResponse; return it parsed, with its
    assertion ID.

    Raise SignInRefused for a message too large, not XML, with a DOCTYPE,
    not a samlp:Response, of another SAML version, without exactly one
    (possibly encrypted) assertion, with a weak algorithm (unless
    ``allow_sha1``), without a Destination or with a Destination or
    Recipient other than ``acs_url``, an IssueInstant outside ``max_age``
    (plus the leeway) of ``now``, an InResponseTo naming a request this
    browser did not send to this site for this audience (``outstanding``),
    or an unsolicited response where those are not allowed. These checks
    read the message before its signature is verified, so they may only
    refuse; ``assertion_checks`` checks the verified message again.
    """
    if len(encoded) > RESPONSE_MAX_BYTES:
        raise SignInRefused(RefusalReason.SAML_TOO_LARGE, detail={"check": "size"})
    check_passed("size", size=len(encoded), limit=RESPONSE_MAX_BYTES)
    try:
        root = xml_parse(base64.b64decode(encoded, validate=False), comments=False)
    except (ValueError, binascii.Error, lxml.etree.XMLSyntaxError) as exc:
        # ValueError covers a DOCTYPE: no DTD or entity is ever expanded.
        raise SignInRefused(
            RefusalReason.SAML_MALFORMED, detail={"check": "xml", "why": type(exc).__name__}
        ) from exc
    check_passed("xml")
    if root.tag != f"{{{_SAMLP}}}Response":
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise SignInRefused(
            RefusalReason.SAML_WRONG_MESSAGE, detail={"check": "root", "element": tag[-120:]}
        )
    if root.get("Version") != "2.0":
        raise SignInRefused(RefusalReason.SAML_VERSION, detail={"check": "response_version"})
    check_passed("root", element="samlp:Response", version="2.0")
    status = root.find(f"{{{_SAMLP}}}Status/{{{_SAMLP}}}StatusCode")
    if status is None or status.get("Value") != _STATUS_SUCCESS:
        raise SignInRefused(RefusalReason.SAML_IDP_ERROR, detail={"check": "status_success"})
    check_passed("status_success")
    assertions = root.findall(f"{{{_SAML}}}Assertion")
    encrypted = root.findall(f"{{{_SAML}}}EncryptedAssertion")
    if len(assertions) + len(encrypted) != 1:
        raise SignInRefused(
            RefusalReason.SAML_ASSERTION_COUNT,
            detail={"check": "one_assertion", "count": len(assertions) + len(encrypted)},
        )
    check_passed("one_assertion", encrypted=bool(encrypted))
    algorithms = weak_algorithms_refuse(root, allow_sha1=allow_sha1)
    check_passed(
        "algorithm", algorithms=", ".join(sorted(a.rsplit("#", 1)[-1] for a in algorithms))
    )
    _recipients_precheck(root, acs_url)
    check_passed("destination_recipient", destination=root.get("Destination"), expected=acs_url)
    if assertions:  # an encrypted one is checked once decrypted
        _subject_precheck(assertions[0])
    _issue_instant_precheck(root, now=now, max_age=max_age)
    check_passed(
        "response_issue_instant",
        issue_instant=root.get("IssueInstant"),
        now=now.isoformat(timespec="seconds"),
        max_age=f"{int(max_age.total_seconds())} s",
        skew=f"{CLOCK_LEEWAY} s",
    )
    in_response_to = root.get("InResponseTo")
    if in_response_to and in_response_to not in outstanding:
        # Even where IdP-initiated sign-in is allowed (pysaml2 would then let
        # it through): a response to someone else's request is never ours.
        raise SignInRefused(
            RefusalReason.SAML_IN_RESPONSE_TO,
            detail={"check": "in_response_to", "in_response_to": in_response_to[:80]},
        )
    if not in_response_to and not allow_unsolicited:
        raise SignInRefused(RefusalReason.SAML_UNSOLICITED, detail={"check": "in_response_to"})
    check_passed("in_response_to", solicited=bool(in_response_to))
    return Prechecked(
        root=root, assertion_id=str(assertions[0].get("ID", ""))[:80] if assertions else ""
    )


def weak_algorithms_refuse(node: Any, *, allow_sha1: bool) -> set[str]:
    """Refuse ``node`` if a signature or digest method in it is SHA-1 or
    weaker and the site does not allow SHA-1 (``saml_weak_algorithm``);
    return the methods it names.
    """
    algorithms = {
        method.get("Algorithm", "")
        for method in node.iter(f"{{{_DSIG}}}SignatureMethod", f"{{{_DSIG}}}DigestMethod")
    }
    if not allow_sha1 and algorithms & WEAK_ALGORITHMS:
        raise SignInRefused(
            RefusalReason.SAML_WEAK_ALGORITHM,
            detail={"check": "algorithm", "algorithms": sorted(algorithms & WEAK_ALGORITHMS)},
        )
    return algorithms


def _recipients_precheck(root: Any, acs_url: str) -> None:
    destination = root.get("Destination")
    if not destination:
        raise SignInRefused(
            RefusalReason.SAML_NO_DESTINATION, detail={"check": "response_destination"}
        )
    recipients = {destination} | {
        node.get("Recipient") or acs_url
        for node in root.iter(f"{{{_SAML}}}SubjectConfirmationData")
    }
    if recipients != {acs_url}:
        raise SignInRefused(
            RefusalReason.SAML_WRONG_RECIPIENT,
            detail={
                "check": "destination_recipient",
                "recipients": sorted(r[:120] for r in recipients - {acs_url}),
            },
        )


def _subject_precheck(assertion: Any) -> None:
    confirmations = assertion.findall(f"{{{_SAML}}}Subject/{{{_SAML}}}SubjectConfirmation")
    methods = [node.get("Method", "") for node in confirmations]
    if _BEARER not in methods:
        raise SignInRefused(
            RefusalReason.SAML_NOT_BEARER,
            detail={"check": "bearer", "methods": sorted(m[:80] for m in methods)},
        )
    ends = [
        data.get("NotOnOrAfter")
        for node in confirmations
        if node.get("Method") == _BEARER
        for data in node.findall(f"{{{_SAML}}}SubjectConfirmationData")
    ]
    if not any(ends):
        raise SignInRefused(
            RefusalReason.SAML_NO_EXPIRY, detail={"check": "confirmation_not_on_or_after"}
        )
    if assertion.find(f"{{{_SAML}}}AuthnStatement") is None:
        raise SignInRefused(
            RefusalReason.SAML_NO_AUTHN_STATEMENT, detail={"check": "authn_statement"}
        )


def _issue_instant_precheck(root: Any, *, now: dt.datetime, max_age: dt.timedelta) -> None:
    """Refuse a Response dated outside the window: pysaml2 would otherwise
    drop it without a word (a 500 in djangosaml2's view).
    """
    leeway = dt.timedelta(seconds=CLOCK_LEEWAY)
    try:
        moment = saml_instant(root.get("IssueInstant"))
    except SignInRefused as exc:
        exc.detail["check"] = "response_issue_instant"
        raise
    if moment > now + leeway:
        raise SignInRefused(
            RefusalReason.SAML_ISSUED_IN_FUTURE, detail={"check": "response_issue_instant"}
        )
    if now - moment > max_age + leeway:
        raise SignInRefused(RefusalReason.SAML_TOO_OLD, detail={"check": "response_issue_instant"})


def refusal_for(exc: BaseException) -> RefusalReason:
    """Return the reason code for an exception raised while pysaml2 parsed
    and verified a response.
    """
    message = str(exc)
    match exc:
        case SignInRefused():
            return exc.reason
        case ResponseLifetimeExceed():
            return RefusalReason.SAML_EXPIRED
        case ToEarly():
            return RefusalReason.SAML_NOT_YET_VALID
        case RequestVersionTooLow() | RequestVersionTooHigh():
            return RefusalReason.SAML_VERSION
        case SignatureError() if "Invalid document format" in message:
            return RefusalReason.SAML_SCHEMA_INVALID
        case SignatureError() if "Signature missing" in message:
            return RefusalReason.SAML_UNSIGNED
        case SignatureError() | IncorrectlySigned():
            return RefusalReason.SAML_BAD_SIGNATURE
        case MissingKey():
            return RefusalReason.SAML_WRONG_ISSUER
        case UnsolicitedResponse():
            return RefusalReason.SAML_IN_RESPONSE_TO
        case StatusError():
            return RefusalReason.SAML_IDP_ERROR
        case VerificationError() if "recipient" in message:
            return RefusalReason.SAML_WRONG_RECIPIENT
        case VerificationError() if "subject confirmation" in message:
            return RefusalReason.SAML_NOT_BEARER
        case ValueError() if "AuthnStatement" in message:
            return RefusalReason.SAML_NO_AUTHN_STATEMENT
        case _ if "AudienceRestrictions" in message:
            return RefusalReason.SAML_WRONG_AUDIENCE
    return RefusalReason.SAML_MALFORMED
