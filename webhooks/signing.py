"""Endpoint secrets: generated here, stored encrypted (``sso_site.secret_store``
under its own key label), used to sign bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets

from sso_site.secret_store import secret_decrypt, secret_encrypt, secret_fingerprint

_LABEL = b"webhooks.endpoint-secret.v1"


def secret_new() -> tuple[str, str, str]:
    """Return a new secret: (raw, ciphertext, fingerprint)."""
    raw = "whsec_" + _secrets.token_urlsafe(32)
    return raw, secret_encrypt(raw, label=_LABEL), secret_fingerprint(raw)


def secret_open(stored: str) -> str | None:
    """Return the raw secret, or None when no current key decrypts it."""
    return secret_decrypt(stored, label=_LABEL)


def signature(secret: str, *, timestamp: str, body: bytes) -> str:
    """Return ``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signature_verify(
    secret: str, *, timestamp: str, body: bytes, header: str, now: float, tolerance: int = 300
) -> bool:
    """Return whether ``header`` signs ``body`` at a fresh ``timestamp``.

    What a receiver runs (the tests use it as one): a stale timestamp is a
    replay; duplicates are caught by the event ID header.
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header)
