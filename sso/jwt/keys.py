"""Verification keys of a site: loaded once per configuration, not per request.

PEM keys and the decrypted shared secret are cached in-process, keyed by the
stored values themselves, so an edit in the admin takes effect at once while
an unchanged configuration never loads a key twice (PEM parsing costs more
than a whole verification). A JWKS document is shared by all app servers
through Django's cache (Redis) with a TTL; each process parses a given
document once. An unknown ``kid`` triggers one refetch, rate-limited per URL,
so a rotation at the customer is picked up without letting forged ``kid``
values turn us into a request amplifier against their server. On a cold
cache a short lock in the shared cache lets one request fetch while the
others wait for its result (a stampede of sign-ins makes one fetch).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from django.conf import settings
from django.utils import timezone

from sso.jwt.jwks_cache import store as _store
from sso.jwt.models import Algorithm, JwtSettings, jwks_url_problem
from sso_site.outbound import ANY_NETWORK, OutboundRefusedError, outbound_get
from sso_site.secret_store import secret_decrypt

logger = logging.getLogger(__name__)

JWKS_MAX_BYTES = 256 * 1024
JWKS_STALE_SECONDS = 24 * 3600
JWKS_WAIT_STEP_SECONDS = 0.05


class JwksUnavailableError(Exception):
    """The JWKS document could not be fetched or read."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A key ready for ``jwt.decode``; ``kid`` is "" when it has none.

    ``label`` says which configured key it is ("current", "next", or the
    JWKS ``kid``), for the admin's "which key verified" list.
    """

    kid: str
    key: Any
    label: str = "current"


def site_keys(*, config: JwtSettings, kid: str | None) -> tuple[VerificationKey, ...]:
    """Return the keys of ``config`` that may have signed a token with ``kid``.

    Raise JwksUnavailableError when a JWKS URL is configured but cannot be
    read. An empty result means no key fits: the token is refused.
    """
    if config.jwks_url:
        keys = _jwks_keys(config.jwks_url, config.algorithm)
        if kid and not _select(keys, kid) and _refetch_allowed(config.jwks_url):
            logger.info("jwks: unknown kid, refetching site=%s", config.site.site_id)
            keys = _jwks_keys(config.jwks_url, config.algorithm, refresh=True)
    else:
        keys = _static_keys(
            config.algorithm,
            config.secret_encrypted,
            config.public_key,
            config.public_key_id,
            config.next_public_key,
            config.next_public_key_id,
            config.next_secret_encrypted,
        )
        if config.rotation_ends_at is not None and config.rotation_ends_at <= timezone.now():
            # The window is over: the old key is retired now, even before
            # the periodic job promotes the next one.
            keys = tuple(k for k in keys if k.label == "next") or keys
    return _select(keys, kid)


KEY_USE_KEEP = 20
KEY_USE_SECONDS = 30 * 24 * 3600


# The entry this process pushed last, per settings row: an entry is (second,
# key label), so a second sign-in with the same key in the same second would
# push an exact copy of the newest entry, telling the reader nothing new.
_last_pushed: dict[int, tuple[int, str]] = {}


def key_use_record(*, config: JwtSettings, key: VerificationKey) -> None:
    """Remember that ``key`` verified a sign-in of ``config`` (last few kept)."""
    entry = (int(time.time()), key.label)
    if _last_pushed.get(config.pk) == entry:
        return  # the newest entry already says so (see _last_pushed)
    if len(_last_pushed) >= 20_000:
        _last_pushed.clear()
    _last_pushed[config.pk] = entry
    try:
        _store.list_push(
            _key_use_name(config),
            list(entry),
            keep=KEY_USE_KEEP,
            timeout=KEY_USE_SECONDS,
        )
    except Exception:  # bookkeeping never fails a sign-in
        logger.warning("jwt: could not record the key use")


def _key_use_name(config: JwtSettings) -> str:
    # A list on Redis (pushed in one round trip); "keyuse" held a pickled one.
    return f"sso:jwt:keyuses:{config.pk}"


def key_use_recent(*, config: JwtSettings) -> list[tuple[int, str]]:
    """Return (unix time, key label) of the last sign-ins of ``config``, newest first."""
    return [(int(at), str(label)) for at, label in _store.list_get(_key_use_name(config))]


def jwks_refresh(url: str, algorithm: str) -> tuple[str, ...]:
    """Fetch the JWKS at ``url`` now and replace the cached document; return its kids.

    The periodic refresh: keys the server no longer publishes are gone from
    the cache at once. Raise JwksUnavailableError when it cannot be read;
    the cached document then stays as it was.
    """
    text = _jwks_fetch(url)
    keys = _jwks_parse(text, algorithm)
    ttl = getattr(settings, "SSO_JWKS_CACHE_SECONDS", 900)
    _store.set(_cache_key(url, "doc"), text, timeout=ttl)
    _store.set(_cache_key(url, "stale"), text, timeout=JWKS_STALE_SECONDS)
    return tuple(k.kid for k in keys)


def jwks_problem(url: str, algorithm: str) -> str:
    """Fetch ``url`` now; return why it serves no usable key, or "" if it does."""
    try:
        keys = _jwks_parse(_jwks_fetch(url), algorithm)
    except JwksUnavailableError as exc:
        return f"The JWKS could not be fetched: {exc}."
    if not keys:
        return f"The JWKS at this URL holds no {algorithm} signing key."
    return ""


def jwks_key_ders(url: str, algorithm: str) -> frozenset[bytes]:
    """Return the SubjectPublicKeyInfo DER of each key the JWKS at ``url`` serves.

    From the shared cache when it holds the document; raise
    JwksUnavailableError when it cannot be read.
    """
    return frozenset(
        k.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        for k in _jwks_keys(url, algorithm)
    )


def jwks_forget(url: str) -> None:
    """Drop all that is cached of the JWKS at ``url``: document, copy, lock, pause."""
    for what in ("doc", "stale", "lock", "refetch"):
        _store.delete(_cache_key(url, what))


def _select(keys: tuple[VerificationKey, ...], kid: str | None) -> tuple[VerificationKey, ...]:
    # A token naming a kid gets the key of that kid; keys configured without
    # an ID accept any. A token without a kid may have been signed by any key
    # (at most two are active at once, so trying each costs little).
    if not kid:
        return keys
    named = tuple(k for k in keys if k.kid == kid)
    return named or tuple(k for k in keys if not k.kid)


@lru_cache(maxsize=512)
def _static_keys(
    algorithm: str,
    secret_encrypted: str,
    public_key: str,
    public_key_id: str,
    next_public_key: str,
    next_public_key_id: str,
    next_secret_encrypted: str = "",
) -> tuple[VerificationKey, ...]:
    keys: list[VerificationKey] = []
    if algorithm == Algorithm.HS256:
        for stored, label in ((secret_encrypted, "current"), (next_secret_encrypted, "next")):
            raw = secret_decrypt(stored) if stored else None
            if raw:
                keys.append(VerificationKey("", raw.encode(), label))
        return tuple(keys)
    pairs = ((public_key, public_key_id, "current"), (next_public_key, next_public_key_id, "next"))
    for pem, kid, label in pairs:
        if pem.strip():
            try:
                key = load_pem_public_key(pem.strip().encode())
                keys.append(VerificationKey(kid, key, label))
            except (ValueError, TypeError):  # saved past validation somehow: skip it
                logger.warning("jwt: unusable public key kid=%s", kid[:64])
    return tuple(keys)


def _cache_key(url: str, what: str) -> str:
    return f"sso:jwks:{what}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def _refetch_allowed(url: str) -> bool:
    interval = getattr(settings, "SSO_JWKS_REFETCH_SECONDS", 60)
    return _store.add(_cache_key(url, "refetch"), 1, timeout=interval)


def _jwks_keys(url: str, algorithm: str, *, refresh: bool = False) -> tuple[VerificationKey, ...]:
    text = None if refresh else _store.get(_cache_key(url, "doc"))
    if text is None:
        # A refresh is rate-limited already (_refetch_allowed); a cold cache
        # is not, so there one request fetches while the others wait for it.
        with nullcontext(None) if refresh else _single_fetch(url) as fetched:
            text = fetched if fetched is not None else _jwks_fetch_and_store(url)
    return _jwks_parse(text, algorithm)


@contextmanager
def _single_fetch(url: str) -> Iterator[str | None]:
    """Yield the document another request fetched meanwhile, or None.

    None means: fetch it. This request then holds the fetch lock (released
    on leaving), unless it waited the fetch timeout in vain. When the holder
    fails and lets go, one of the waiters takes the lock over.
    """
    lock = _cache_key(url, "lock")
    timeout = getattr(settings, "SSO_JWKS_TIMEOUT_SECONDS", 3.0)
    deadline = time.monotonic() + timeout
    while True:
        token = secrets.token_hex(8)
        if _store.add(lock, token, timeout=timeout + 1):
            try:
                yield None
            finally:
                if _store.get(lock) == token:  # not if it expired and was taken over
                    _store.delete(lock)
            return
        while time.monotonic() < deadline:
            time.sleep(JWKS_WAIT_STEP_SECONDS)
            text = _store.get(_cache_key(url, "doc"))
            if text is not None:
                yield text
                return
            if _store.get(lock) is None:
                break  # the holder failed: try to take over
        else:
            logger.warning("jwks: waited %.1fs for another fetch, fetching too", timeout)
            yield None
            return


def _jwks_fetch_and_store(url: str) -> str:
    try:
        text = _jwks_fetch(url)
    except JwksUnavailableError:
        # The customer's server is down: keep signing agents in with the
        # last keys it served (a day at most) rather than lock them out.
        text = _store.get(_cache_key(url, "stale"))
        if text is None:
            raise
        logger.warning("jwks: fetch failed, using the last document for a while")
        # ... and retry the fetch only after a pause, not on every request.
        retry = getattr(settings, "SSO_JWKS_REFETCH_SECONDS", 60)
        _store.set(_cache_key(url, "doc"), text, timeout=retry)
        return str(text)
    ttl = getattr(settings, "SSO_JWKS_CACHE_SECONDS", 900)
    _store.set(_cache_key(url, "doc"), text, timeout=ttl)
    _store.set(_cache_key(url, "stale"), text, timeout=JWKS_STALE_SECONDS)
    return text


def _jwks_fetch(url: str) -> str:
    problem = jwks_url_problem(url)
    if problem:
        raise JwksUnavailableError(problem)
    # No redirects: the operator vetted this URL, not wherever it points.
    allow_private = getattr(settings, "SSO_JWKS_ALLOW_PRIVATE", False)
    try:
        fetched = outbound_get(
            url,
            max_bytes=JWKS_MAX_BYTES,
            timeout=getattr(settings, "SSO_JWKS_TIMEOUT_SECONDS", 3.0),
            schemes=("https", "http")
            if getattr(settings, "SSO_JWKS_ALLOW_HTTP", False)
            else ("https",),
            allow_networks=ANY_NETWORK if allow_private else (),
            headers={"Accept": "application/json"},
        )
    except OutboundRefusedError as exc:
        raise JwksUnavailableError(str(exc)) from exc
    if fetched.status != 200:
        raise JwksUnavailableError(f"HTTP {fetched.status}")
    try:
        document = json.loads(fetched.body)
    except ValueError as exc:
        raise JwksUnavailableError("not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailableError("no 'keys' list")
    return json.dumps(document, sort_keys=True)


@lru_cache(maxsize=256)
def _jwks_parse(text: str, algorithm: str) -> tuple[VerificationKey, ...]:
    keys = []
    for jwk in json.loads(text)["keys"]:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        if jwk.get("alg", algorithm) != algorithm or jwk.get("kty") == "oct":
            continue  # never an HMAC key from a URL, never another algorithm
        try:
            parsed = jwt.PyJWK(jwk, algorithm)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            logger.warning("jwks: skipping unusable key kid=%s", str(jwk.get("kid", ""))[:64])
            continue
        kid = str(jwk.get("kid", ""))
        keys.append(VerificationKey(kid, parsed.key, f"kid {kid[:40]}" if kid else "jwks"))
    return tuple(keys)
