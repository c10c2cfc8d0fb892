"""The provider's discovery document and JWKS: fetched, checked, cached.

Both live in Django's cache, shared by every app server, and for a minute
in the process too (a sign-in then makes no cache round trip for them); the
JWKS is fetched again when a token names a ``kid`` it lacks (key rotation),
at most once per ``SSO_OIDC_JWKS_REFETCH_SECONDS`` per provider.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from sso.oidc.fetch import FetchError, oidc_fetch_json
from sso_site.signin.refusals import RefusalReason, SignInRefused

logger = logging.getLogger(__name__)

# Asymmetric only: with HS* a public key could be used as an HMAC secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True, slots=True)
class Provider:
    """What the RP needs of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str
    algorithms: tuple[str, ...]


LOCAL_SECONDS = 60
_local: dict[str, tuple[float, Any]] = {}


def _key(kind: str, url: str) -> str:
    return f"sso:oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def _cached(key: str) -> Any:
    """Return the value of ``key``: from this process if recent, else the shared cache."""
    expires, value = _local.get(key, (0.0, None))
    if expires > time.monotonic():
        return value
    value = cache.get(key)
    if value is not None:
        _local[key] = (time.monotonic() + LOCAL_SECONDS, value)
    return value


def _store(key: str, value: Any, *, timeout: float) -> None:
    _local[key] = (time.monotonic() + min(timeout, LOCAL_SECONDS), value)
    cache.set(key, value, timeout=timeout)


def _unavailable(why: str) -> SignInRefused:
    logger.warning("oidc: provider unavailable: %s", why)
    return SignInRefused(RefusalReason.OIDC_PROVIDER_UNAVAILABLE, detail={"problem": why})


def provider_get(*, issuer: str, refresh: bool = False) -> Provider:
    """Return the provider at ``issuer`` from its discovery document, else raise.

    The document's ``issuer`` must equal the configured one exactly (OIDC
    Discovery 4.3), so a document cannot speak for another issuer.
    """
    issuer = issuer.strip()
    key = _key("discovery", issuer)
    document: Any = None if refresh else _cached(key)
    if document is None:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = oidc_fetch_json(url)
        except FetchError as exc:
            raise _unavailable(f"discovery: {exc}") from exc
        if any(not isinstance(document.get(name), str) for name in REQUIRED):
            raise _unavailable("discovery: required fields missing")
        if document["issuer"] != issuer:
            raise _unavailable("discovery: issuer differs")
        _store(key, document, timeout=settings.SSO_OIDC_DISCOVERY_CACHE_SECONDS)
    announced = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
        algorithms=tuple(alg for alg in ALGORITHMS if alg in announced),
    )


def provider_jwks(*, provider: Provider, refresh: bool = False) -> list[dict[str, Any]]:
    """Return the provider's public keys (JWK dicts); refetched when asked to
    and not refetched within the last interval.
    """
    key = _key("jwks", provider.jwks_uri)
    keys: Any = _cached(key)
    if keys is not None and refresh:
        recent = not cache.add(
            _key("jwks-refetch", provider.jwks_uri),
            1,
            timeout=settings.SSO_OIDC_JWKS_REFETCH_SECONDS,
        )
        if recent:
            return list(keys)
        keys = None
    if keys is None:
        try:
            document = oidc_fetch_json(provider.jwks_uri)
        except FetchError as exc:
            raise _unavailable(f"jwks: {exc}") from exc
        found = document.get("keys")
        if not isinstance(found, list):
            raise _unavailable("jwks: no keys list")
        # Public asymmetric keys only; an "oct" key never verifies anything.
        keys = [k for k in found if isinstance(k, dict) and k.get("kty") in {"RSA", "EC"}]
        _store(key, keys, timeout=settings.SSO_OIDC_JWKS_CACHE_SECONDS)
    return list(keys)
