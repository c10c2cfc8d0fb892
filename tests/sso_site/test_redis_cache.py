"""The Redis cache backend (sso_site.redis_cache): Django's contract, fewer round trips."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache


def test_incr_counts_an_existing_key_and_refuses_a_missing_one() -> None:
    key = f"test:incr:{uuid.uuid4().hex}"
    with pytest.raises(ValueError, match="not found"):
        cache.incr(key)
    assert cache.get(key) is None  # a refused incr creates nothing
    assert cache.add(key, 1, timeout=60)
    assert cache.incr(key) == 2
    assert cache.incr(key, 5) == 7
    assert cache.get(key) == 7
    cache.delete(key)


def test_one_client_serves_every_call() -> None:
    backend = cache._cache  # type: ignore[attr-defined]
    assert backend.get_client("a") is backend.get_client("b", write=True)
