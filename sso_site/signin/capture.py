"""A redacted copy of what came in with a refused sign-in, kept a short time
in the refusal's audit detail for the troubleshooting console.

Personal values (NameID, attribute values, personal claims) are masked,
signatures, certificates and encrypted data are summarised, the copy is
size-capped and dated (``SSO_CAPTURE_TTL`` seconds; ``capture_is_live``).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

import lxml.etree
from django.conf import settings
from django.http import HttpRequest

DEFAULT_TTL = 3 * 24 * 3600
DEFAULT_MAX_BYTES = 24 * 1024
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_XENC = "http://www.w3.org/2001/04/xmlenc#"
_MASKED = {f"{{{_SAML}}}NameID", f"{{{_SAML}}}AttributeValue", f"{{{_SAML}}}SubjectLocality"}
_SUMMARISED = {
    f"{{{_DSIG}}}SignatureValue": "signature value",
    f"{{{_DSIG}}}DigestValue": "digest",
    f"{{{_DSIG}}}X509Certificate": "certificate",
    f"{{{_XENC}}}CipherValue": "encrypted data",
}
_PLAIN_CLAIMS = frozenset(
    {"iss", "aud", "exp", "iat", "nbf", "jti", "amr", "acr", "auth_time", "typ"}
)


def capture_ttl() -> int:
    return int(getattr(settings, "SSO_CAPTURE_TTL", DEFAULT_TTL))


def _mask(value: str) -> str:
    kind = "email" if "@" in value else "text"
    return f"[masked {kind}, {len(value)} chars]"


def refusal_capture(request: HttpRequest, *, protocol: str | None) -> dict[str, Any]:
    """Return ``{"capture": {...}}`` for the audit detail, or ``{}``.

    Never raises: a capture is a help, not part of the refusal.
    """
    try:
        data = request.POST if request.method == "POST" else request.GET
        if protocol == "saml" and data.get("SAMLResponse"):
            kind, text = "saml", _saml_redacted(data["SAMLResponse"])
        elif protocol == "jwt" and data.get("jwt"):
            kind, text = "jwt", _jwt_redacted(data["jwt"])
        else:
            return {}
    except Exception:  # whatever came in, the refusal goes on
        return {}
    if text is None:
        return {}
    limit = int(getattr(settings, "SSO_CAPTURE_MAX_BYTES", DEFAULT_MAX_BYTES))
    truncated = len(text) > limit
    return {
        "capture": {
            "kind": kind,
            "text": text[:limit],
            "truncated": truncated,
            "expires": int(time.time()) + capture_ttl(),
        }
    }


def capture_is_live(detail: dict[str, Any], *, now: float | None = None) -> bool:
    """Return whether ``detail`` holds a capture that has not expired."""
    capture = detail.get("capture")
    if not isinstance(capture, dict):
        return False
    return int(capture.get("expires") or 0) > (now if now is not None else time.time())


def _saml_redacted(encoded: str) -> str | None:
    try:
        data = base64.b64decode(encoded[: 512 * 1024], validate=False)
        parser = lxml.etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        root = lxml.etree.fromstring(data, parser)
    except (ValueError, binascii.Error, lxml.etree.XMLSyntaxError):
        return None
    if root.getroottree().docinfo.internalDTD is not None:
        return None
    for node in root.iter():
        if node.tag in _MASKED:
            if node.text and node.text.strip():
                node.text = _mask(node.text.strip())
            for child in list(node):
                node.remove(child)
            for attr in ("Address", "DNSName"):
                if attr in node.attrib:
                    node.set(attr, "[masked]")
        elif node.tag in _SUMMARISED and node.text:
            size = len("".join(node.text.split()))
            node.text = f"[{_SUMMARISED[node.tag]}, {size} base64 chars]"
    return str(lxml.etree.tostring(root, encoding="unicode"))


def _jwt_redacted(token: str) -> str | None:
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    redacted = {
        str(k)[:60]: v if k in _PLAIN_CLAIMS else _mask(json.dumps(v, ensure_ascii=False))
        for k, v in claims.items()
    }
    signature = f"[signature, {len(parts[2])} base64url chars]"
    # Decoded, never the token's own parts: no piece of it is stored.
    return json.dumps(
        {"header": header, "claims": redacted, "signature": signature},
        ensure_ascii=False,
        default=str,
    )


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
