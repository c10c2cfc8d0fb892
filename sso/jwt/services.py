"""Writes of JWT settings."""

from __future__ import annotations

from django.utils import timezone

from sso.jwt.models import JwtSettings
from sso_site.secret_store import secret_encrypt, secret_fingerprint, secret_generate


def jwt_secret_rotate(*, config: JwtSettings) -> str:
    """Give ``config`` a new random shared secret; return it (shown once).

    The previous secret stops working at once: tokens signed with it are
    refused with ``jwt_bad_signature``.
    """
    raw = secret_generate()
    config.secret_encrypted = secret_encrypt(raw)
    config.secret_fingerprint = secret_fingerprint(raw)
    config.secret_created_at = timezone.now()
    config.save(
        update_fields=["secret_encrypted", "secret_fingerprint", "secret_created_at", "updated_at"]
    )
    return raw
