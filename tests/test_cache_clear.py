"""Tests that start from an empty cache leave the broker's keys alone."""

from __future__ import annotations

import uuid

from django.core.cache import cache

from tests.fixtures.cache import app_cache_clear


def test_app_cache_clear_keeps_the_brokers_keys() -> None:
    client = cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
    queue = f"probe-{uuid.uuid4().hex}"  # as a Celery queue is kept: a bare list
    client.rpush(queue, b"task")
    cache.set("lockout:someone", 3)
    try:
        assert app_cache_clear() >= 1
        assert cache.get("lockout:someone") is None
        assert client.llen(queue) == 1
    finally:
        client.delete(queue)
