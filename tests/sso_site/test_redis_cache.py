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


def test_counts_incr_counts_each_window_in_one_round_trip() -> None:
    first, second = f"test:count:{uuid.uuid4().hex}", f"test:count:{uuid.uuid4().hex}"
    backend = cache._cache  # type: ignore[attr-defined]
    client = backend.get_client(write=True)
    assert cache.counts_incr([(first, 60), (second, 5)]) == [1, 1]  # type: ignore[attr-defined]
    assert cache.counts_incr([(first, 60), (second, 5)]) == [2, 2]  # type: ignore[attr-defined]
    assert cache.get(first) == 2  # Django's cache reads the same counter
    # A counter expires as django-ratelimit's cache.add() would set it: from
    # its first count, not refreshed by later ones.
    assert 55 <= client.ttl(cache.make_key(first)) <= 60
    assert 0 < client.ttl(cache.make_key(second)) <= 5
    cache.delete_many([first, second])


def test_list_push_keeps_the_newest_items_first() -> None:
    key = f"test:list:{uuid.uuid4().hex}"
    for n in range(5):
        cache.list_push(key, str(n), keep=3, timeout=60)  # type: ignore[attr-defined]
    assert cache.list_get(key) == ["4", "3", "2"]  # type: ignore[attr-defined]
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    assert 55 <= client.ttl(cache.make_key(key)) <= 60
    cache.delete(key)
    assert cache.list_get(key) == []  # type: ignore[attr-defined]
