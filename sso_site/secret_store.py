"""Encryption at rest of the sites' secrets: JWT HMAC shared secrets, SAML
SP private keys, OIDC client secrets and webhook endpoint secrets.

HS256 verification needs the raw secret, and the SP must sign and decrypt
with its private key, so neither can be stored as a hash as passwords are.
They are stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with
a key derived from ``SECRET_KEY``, which lives outside the database: a leaked
dump, backup or read-only SQL account yields no usable secret. Keys derived
from ``SECRET_KEY_FALLBACKS`` still decrypt, so rotating ``SECRET_KEY`` works
the way it does for Django's signed cookies (save each row again to re-encrypt
under the new key). The raw value is shown once, when generated, and is never
rendered again: admin pages show only a fingerprint.

Each purpose may derive its own key (``label``, the HKDF info); the default
label names JWT for historical reasons and stays as it is so that
ciphertexts already stored still decrypt. It sits in the lowest layer
(it imports nothing of ours), so any app may use it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_BYTES = 32
DEFAULT_LABEL = b"sso.jwt.shared-secret.v1"


def _fernet_for(secret_key: str, label: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet(label: bytes) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key, label) for key in keys])


def secret_generate() -> str:
    """Return a new random shared secret: 32 bytes, URL-safe base64 (43 chars)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_encrypt(raw: str, *, label: bytes = DEFAULT_LABEL) -> str:
    """Return ``raw`` encrypted for storage."""
    return _fernet(label).encrypt(raw.encode()).decode()


def secret_decrypt(stored: str, *, label: bytes = DEFAULT_LABEL) -> str | None:
    """Return the raw secret, or None if no current key decrypts it."""
    try:
        return _fernet(label).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


def secret_rotate(stored: str, *, label: bytes = DEFAULT_LABEL) -> str | None:
    """Return ``stored`` encrypted again under the current ``SECRET_KEY``,
    or None if no current key decrypts it.
    """
    try:
        return _fernet(label).rotate(stored.encode()).decode()
    except InvalidToken:
        return None


def secret_fingerprint(raw: str) -> str:
    """Return a short, non-reversible fingerprint to tell secrets apart."""
    return hashlib.sha256(raw.encode()).hexdigest()[:12]
