"""The OAuth 2.0 client side, on authlib: the authorization URL (PKCE S256)
and the token request, with the site's client authentication.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings

from sso.oidc.fetch import GuardedAdapter
from sso.oidc.models import OidcSettings
from sso.oidc.provider import Provider
from sso_site.secret_store import secret_decrypt
from sso_site.signin.refusals import RefusalReason, SignInRefused


def oidc_client(*, config: OidcSettings, provider: Provider, redirect_uri: str) -> OAuth2Session:
    """Return an authlib client for ``config``: PKCE S256 and its client auth."""
    private_key_jwt = config.client_auth == OidcSettings.ClientAuth.PRIVATE_KEY_JWT
    stored = config.private_key_encrypted if private_key_jwt else config.client_secret_encrypted
    secret = secret_decrypt(stored) if stored else None
    client = OAuth2Session(
        client_id=config.client_id,
        client_secret=secret,
        token_endpoint_auth_method=config.client_auth,
        redirect_uri=redirect_uri,
        scope=config.scopes,
        code_challenge_method="S256",
    )
    # The token request goes through the outbound guard, never requests' pool.
    for prefix in ("https://", "http://"):
        client.mount(prefix, GuardedAdapter())
    if private_key_jwt:
        client.register_client_auth_method(
            PrivateKeyJWT(provider.token_endpoint, headers={"kid": config.private_key_kid})
        )
    return client


def oidc_code_exchange(
    *, client: OAuth2Session, provider: Provider, code: str, verifier: str
) -> dict[str, Any]:
    """Return the token endpoint's answer for ``code``, else raise.

    A code the provider refuses (used before, expired, another client's,
    a PKCE verifier that does not match) is ``oidc_code_rejected``.
    """
    try:
        token = client.fetch_token(
            provider.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            timeout=settings.SSO_OIDC_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except OAuthError as exc:
        raise SignInRefused(
            RefusalReason.OIDC_CODE_REJECTED, detail={"error": str(exc.error)[:40]}
        ) from exc
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefused(
            RefusalReason.OIDC_PROVIDER_UNAVAILABLE, detail={"problem": type(exc).__name__}
        ) from exc
    return dict(token)
