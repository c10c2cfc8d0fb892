"""The cache of JWKS documents and their fetch locks."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches

from sso_site.redis_cache import RedisCache

logger = logging.getLogger("sso.jwt.keys")


class Store:
    """Django's cache, shared by all app servers; while it is unreachable, a
    per-process stand-in with the same expiry, so that a Redis outage
    neither breaks JWKS sign-ins nor turns each one into a fetch from the
    customer's server.
    """

    def __init__(self) -> None:
        self._local: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        try:
            return cache.get(key)
        except Exception:  # any cache backend error: fall back
            logger.warning("jwks: shared cache unavailable, using the process's own")
            expires, value = self._local.get(key, (0.0, None))
            return value if expires > time.monotonic() else None

    def set(self, key: str, value: Any, *, timeout: float) -> None:
        self._local[key] = (time.monotonic() + timeout, value)
        try:
            cache.set(key, value, timeout=timeout)
        except Exception:  # any cache backend error: the local copy serves
            logger.warning("jwks: shared cache unavailable, using the process's own")

    def delete(self, key: str) -> None:
        self._local.pop(key, None)
        try:
            cache.delete(key)
        except Exception:  # any cache backend error: the key expires anyway
            logger.warning("jwks: shared cache unavailable, using the process's own")

    def add(self, key: str, value: Any, *, timeout: float) -> bool:
        try:
            return bool(cache.add(key, value, timeout=timeout))
        except Exception:  # any cache backend error: fall back
            logger.warning("jwks: shared cache unavailable, using the process's own")
            expires, _ = self._local.get(key, (0.0, None))
            if expires > time.monotonic():
                return False
            self._local[key] = (time.monotonic() + timeout, value)
            return True

    def list_push(self, key: str, value: Any, *, keep: int, timeout: int) -> None:
        """Put ``value`` (JSON) first in the list at ``key``, keeping ``keep``
        items: on Redis one round trip, where a read and a write took two.
        """
        shared = caches[DEFAULT_CACHE_ALIAS]  # the backend itself, not the proxy
        if not isinstance(shared, RedisCache):
            self.set(key, [value, *(self.get(key) or [])][:keep], timeout=timeout)
            return
        try:
            shared.list_push(key, json.dumps(value), keep=keep, timeout=timeout)
        except Exception:  # any cache backend error: the process's own list
            logger.warning("jwks: shared cache unavailable, using the process's own")
            listed = [value, *self._local_list(key)][:keep]
            self._local[key] = (time.monotonic() + timeout, listed)

    def list_get(self, key: str) -> list[Any]:
        """Return the list at ``key`` (see ``list_push``), newest first."""
        shared = caches[DEFAULT_CACHE_ALIAS]
        if not isinstance(shared, RedisCache):
            return list(self.get(key) or [])
        try:
            return [json.loads(item) for item in shared.list_get(key)]
        except Exception:  # any cache backend error: fall back
            logger.warning("jwks: shared cache unavailable, using the process's own")
            return self._local_list(key)

    def _local_list(self, key: str) -> list[Any]:
        expires, value = self._local.get(key, (0.0, None))
        return list(value or []) if expires > time.monotonic() else []


store = Store()
