"""One secret store for every purpose: each purpose's key label keeps its
ciphertexts apart, and ciphertexts stored before the store moved (webhook
secrets were encrypted by a copy of the scheme) still decrypt.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from sso_site.secret_store import secret_decrypt, secret_encrypt
from webhooks.signing import secret_new, secret_open


def _as_stored_before(raw: str, label: bytes) -> str:
    """Encrypt ``raw`` as the scheme did before (HKDF-SHA256 of SECRET_KEY)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key)).encrypt(raw.encode()).decode()


def test_secrets_stored_before_still_decrypt() -> None:
    webhook = _as_stored_before("whsec_old", b"webhooks.endpoint-secret.v1")
    jwt = _as_stored_before("shared-old", b"sso.jwt.shared-secret.v1")
    assert secret_open(webhook) == "whsec_old"
    assert secret_decrypt(jwt) == "shared-old"


def test_each_purpose_has_its_own_key() -> None:
    raw, stored, _ = secret_new()
    assert secret_open(stored) == raw
    assert secret_decrypt(stored) is None  # the default label cannot open it
    assert secret_open(secret_encrypt(raw)) is None
