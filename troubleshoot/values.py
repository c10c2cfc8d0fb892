"""The values a dry run compares, read from the pasted message for display
only (the verdict always comes from the sign-in code). Never a key, a
signature value or a whole token; personal values are masked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from typing import Any

import jwt
import lxml.etree
from django.utils import timezone

_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}
# Claims whose values say nothing about the person: shown as they are.
PLAIN_CLAIMS = frozenset(
    {"iss", "aud", "exp", "iat", "nbf", "jti", "amr", "acr", "alg", "kid", "typ", "auth_time"}
)


def mask(value: str) -> str:
    """Return a stand-in for a personal value: its kind and length only."""
    kind = "email" if "@" in value else "text"
    return f"[masked {kind}, {len(value)} chars]"


def cert_fingerprint(der_base64: str) -> str:
    """Return the SHA-256 fingerprint of a base64 DER certificate (public)."""
    try:
        der = base64.b64decode("".join(der_base64.split()))
    except (ValueError, binascii.Error):
        return "(unreadable)"
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 16, 2)) + "…"


def saml_xml_root(encoded: str) -> Any:
    """Return the parsed XML of a base64 SAMLResponse, or None (no DTD)."""
    try:
        data = base64.b64decode(encoded, validate=False)
        parser = lxml.etree.XMLParser(**_PARSER_OPTIONS)
        root = lxml.etree.fromstring(data, parser)
    except (ValueError, binascii.Error, lxml.etree.XMLSyntaxError):
        return None
    if root.getroottree().docinfo.internalDTD is not None:
        return None
    return root


def saml_values(encoded: str) -> dict[str, str]:
    """Return what the response says: issuer, audience, destination,
    recipients, times, algorithms and signing certificate, against now.
    """
    root = saml_xml_root(encoded)
    if root is None:
        return {"message": "not readable XML (or has a DOCTYPE)"}
    now = timezone.now()
    values = {"now (server)": now.isoformat(timespec="seconds")}

    def first(path: str, attr: str | None = None) -> str:
        node = root.find(path, {"saml": _SAML, "ds": _DSIG})
        if node is None:
            return ""
        return str(node.get(attr, "") if attr else (node.text or "")).strip()[:200]

    values["destination"] = str(root.get("Destination") or "")[:200]
    values["issue instant"] = str(root.get("IssueInstant") or "")
    values["in response to"] = str(root.get("InResponseTo") or "(unsolicited)")[:80]
    values["issuer (response)"] = first("saml:Issuer")
    values["issuer (assertion)"] = first(".//saml:Assertion/saml:Issuer")
    values["audience"] = first(".//saml:Audience")
    values["recipient"] = first(".//saml:SubjectConfirmationData", "Recipient")
    values["confirmation not on or after"] = first(
        ".//saml:SubjectConfirmationData", "NotOnOrAfter"
    )
    values["conditions not before"] = first(".//saml:Conditions", "NotBefore")
    values["conditions not on or after"] = first(".//saml:Conditions", "NotOnOrAfter")
    values["authn context"] = first(".//saml:AuthnContextClassRef")
    values["signature algorithm"] = first(".//ds:SignatureMethod", "Algorithm")
    values["digest algorithm"] = first(".//ds:DigestMethod", "Algorithm")
    signatures = root.findall(f".//{{{_DSIG}}}Signature")
    values["signatures"] = str(len(signatures))
    cert = first(".//ds:X509Certificate")
    if cert:
        values["signing certificate (in message)"] = cert_fingerprint(cert)
    values["encrypted assertion"] = (
        "yes" if root.find(f".//{{{_SAML}}}EncryptedAssertion") is not None else "no"
    )
    return {k: v for k, v in values.items() if v}


def jwt_values(token: str) -> dict[str, str]:
    """Return a JWT's header, its times against now and its claim names."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, RecursionError):
        return {"token": "not a readable JWT"}
    now = int(timezone.now().timestamp())
    values = {
        "now (server)": dt.datetime.fromtimestamp(now, tz=dt.UTC).isoformat(),
        "alg": str(header.get("alg"))[:20],
        "kid": str(header.get("kid", "(none)"))[:80],
    }
    for claim in ("iat", "nbf", "exp"):
        if isinstance(claims.get(claim), int | float):
            moment = dt.datetime.fromtimestamp(int(claims[claim]), tz=dt.UTC)
            values[claim] = f"{moment.isoformat()} (now {int(claims[claim]) - now:+d} s)"
    for claim in ("iss", "aud", "jti", "amr", "acr"):
        if claim in claims:
            values[claim] = json.dumps(claims[claim])[:200]
    values["claims present"] = ", ".join(sorted(str(k)[:40] for k in claims))[:400]
    return values
