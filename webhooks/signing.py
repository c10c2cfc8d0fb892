"""Endpoint secrets: generated here, stored encrypted, used to sign bodies.

The encryption mirrors ``sso.secret_store`` (Fernet under a key derived
from SECRET_KEY, fallbacks accepted) with its own HKDF label; that module
sits in a higher layer than this one, so it cannot be imported here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"webhooks.endpoint-secret.v1"


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
                        key.encode()
                    )
                )
            )
            for key in keys
        ]
    )


def secret_new() -> tuple[str, str, str]:
    """Return a new secret: (raw, ciphertext, fingerprint)."""
    raw = "whsec_" + _secrets.token_urlsafe(32)
    return raw, _fernet().encrypt(raw.encode()).decode(), fingerprint(raw)


def secret_open(stored: str) -> str | None:
    """Return the raw secret, or None when no current key decrypts it."""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


def fingerprint(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


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
