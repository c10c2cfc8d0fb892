"""The RP's own key pair for ``private_key_jwt`` client authentication."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import RSAKey

from sso.oidc.models import OidcSettings
from sso_site.secret_store import secret_decrypt, secret_encrypt


def private_key_generate(config: OidcSettings) -> None:
    """Give ``config`` a new RSA key pair (stored encrypted) and its kid."""
    key = RSAKey.generate_key(2048, private=True, auto_kid=True)
    pem = key.as_pem(private=True)
    config.private_key_encrypted = secret_encrypt(
        pem.decode() if isinstance(pem, bytes) else str(pem)
    )
    config.private_key_kid = str(key.kid)


def public_jwks(*, config: OidcSettings | None) -> dict[str, Any]:
    """Return the JWKS of ``config``'s public key (empty without one)."""
    if config is None or not config.private_key_encrypted:
        return {"keys": []}
    pem = secret_decrypt(config.private_key_encrypted)
    if pem is None:
        return {"keys": []}
    key = RSAKey.import_key(pem, {"kid": config.private_key_kid, "use": "sig", "alg": "RS256"})
    return {"keys": [key.as_dict(private=False)]}
