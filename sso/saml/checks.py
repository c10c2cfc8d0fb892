"""Checks of a SAMLResponse that pysaml2 does not make, or does not name.

``response_precheck`` runs before pysaml2 sees the message: safe parsing (no
DTD, no entities), signature algorithms, and InResponseTo against this
browser's outstanding requests. ``refusal_for`` turns pysaml2's exceptions
into our reason codes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import lxml.etree
from saml2.response import (
    IncorrectlySigned,
    StatusError,
    UnsolicitedResponse,
    VerificationError,
)
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from sso.saml.crypto import xml_parse
from sso_site.signin.refusals import RefusalReason, SignInRefused

RESPONSE_MAX_BYTES = 256 * 1024
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_WEAK_ALGORITHMS = frozenset(
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


def response_precheck(
    encoded: str,
    *,
    acs_url: str,
    allow_sha1: bool,
    allow_unsolicited: bool,
    outstanding: dict[str, Any],
) -> str:
    """Check the base64 ``encoded`` SAMLResponse; return its assertion ID.

    Raise SignInRefused for a malformed message, a weak algorithm (unless
    ``allow_sha1``), a Destination or Recipient other than ``acs_url``, an
    InResponseTo naming a request this browser did not start, or an
    unsolicited response where those are not allowed. These checks read the
    message before its signature is verified, so they may only refuse;
    pysaml2 verifies everything again afterwards.
    """
    if len(encoded) > RESPONSE_MAX_BYTES:
        raise SignInRefused(RefusalReason.SAML_MALFORMED, detail={"why": "too large"})
    try:
        root = xml_parse(base64.b64decode(encoded, validate=False))
    except (ValueError, binascii.Error, lxml.etree.XMLSyntaxError) as exc:
        # ValueError covers a DOCTYPE: no DTD or entity is ever expanded.
        raise SignInRefused(
            RefusalReason.SAML_MALFORMED, detail={"why": type(exc).__name__}
        ) from exc
    algorithms = {
        node.get("Algorithm", "")
        for node in root.iter(f"{{{_DSIG}}}SignatureMethod", f"{{{_DSIG}}}DigestMethod")
    }
    if not allow_sha1 and algorithms & _WEAK_ALGORITHMS:
        raise SignInRefused(
            RefusalReason.SAML_WEAK_ALGORITHM,
            detail={"algorithms": sorted(algorithms & _WEAK_ALGORITHMS)},
        )
    recipients = {root.get("Destination") or acs_url} | {
        node.get("Recipient") or acs_url
        for node in root.iter(f"{{{_SAML}}}SubjectConfirmationData")
    }
    if recipients != {acs_url}:
        # pysaml2 would also refuse, but as an unnamed "unknown error".
        raise SignInRefused(
            RefusalReason.SAML_WRONG_RECIPIENT,
            detail={"recipients": sorted(r[:120] for r in recipients - {acs_url})},
        )
    in_response_to = root.get("InResponseTo")
    if in_response_to and in_response_to not in outstanding:
        # Even where IdP-initiated sign-in is allowed (pysaml2 would then let
        # it through): a response to someone else's request is never ours.
        raise SignInRefused(
            RefusalReason.SAML_IN_RESPONSE_TO, detail={"in_response_to": in_response_to[:80]}
        )
    if not in_response_to and not allow_unsolicited:
        raise SignInRefused(RefusalReason.SAML_UNSOLICITED)
    assertions = root.findall(f"{{{_SAML}}}Assertion")
    return str(assertions[0].get("ID", "")) if assertions else ""


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
        case _ if "AudienceRestrictions" in message:
            return RefusalReason.SAML_WRONG_AUDIENCE
    return RefusalReason.SAML_MALFORMED
