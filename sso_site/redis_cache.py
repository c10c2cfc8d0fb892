"""Django's Redis cache backend, with one Redis client per connection pool.

Django's ``RedisCacheClient.get_client()`` builds a new ``redis.Redis`` for
every operation, and redis-py's constructor fills a table of response
callbacks each time: on a sign-in, which makes a few cache reads, that cost
more CPU than the reads themselves. A ``redis.Redis`` over a connection pool
is safe to share between threads (each command takes a connection from the
pool), so one per pool is kept. After a fork the pool notices the new
process and opens its own connections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# INCRBY only if the key exists: Django's incr() contract (ValueError for a
# missing key) in one round trip and atomically, where Django sends EXISTS
# then INCRBY. The rate limits (django-ratelimit) incr on every sign-in.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

# Count one more in each window counter, starting a missing one at 1 with
# its expiry (SET NX then INCR, as django-ratelimit does per counter), all
# in one round trip: a sign-in is counted under several rules at once.
_COUNT_IN_WINDOWS = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then
    redis.call('EXPIRE', key, ARGV[i])
  end
  counts[i] = count
end
return counts
"""


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, handing out one ``redis.Redis`` per pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_scripts: dict[int, Any] = {}
        self._count_scripts: dict[int, Any] = {}

    def incr(self, key: Any, delta: int) -> Any:
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(_INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def counts_incr(self, counters: Sequence[tuple[str, int]]) -> list[int]:
        """Add one to each counter (key, seconds to live); return the counts."""
        client = self.get_client(counters[0][0], write=True)
        script = self._count_scripts.get(id(client))
        if script is None:
            script = self._count_scripts[id(client)] = client.register_script(_COUNT_IN_WINDOWS)
        keys = [key for key, _ in counters]
        return [int(count) for count in script(keys=keys, args=[ttl for _, ttl in counters])]

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private helpers (not in its stubs): the pool of the
        # server this operation goes to, as its own get_client() picks it.
        base: Any = self
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = base._client(connection_pool=base._get_connection_pool(write))
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache backend on the client above."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def list_push(self, key: str, value: str, *, keep: int, timeout: int) -> None:
        """Put ``value`` first in the list at ``key``, keep its first ``keep``
        items and let it live ``timeout`` seconds more: one round trip.
        """
        name = self.make_and_validate_key(key)
        base: Any = self  # Django's client property (not in its stubs)
        pipe = base._cache.get_client(name, write=True).pipeline(transaction=False)
        pipe.lpush(name, value).ltrim(name, 0, keep - 1).expire(name, timeout)
        pipe.execute()

    def list_get(self, key: str) -> list[str]:
        """Return the list at ``key`` (see ``list_push``), first item first."""
        name = self.make_and_validate_key(key)
        base: Any = self
        items = base._cache.get_client(name).lrange(name, 0, -1)
        return [item.decode() for item in items]

    def counts_incr(self, counters: Sequence[tuple[str, int]]) -> list[int]:
        """Add one to each of ``counters`` (key, seconds to live), creating a
        missing one at 1 with that expiry, in one round trip; return the
        counts. The keys are cache keys, versioned and prefixed here.
        """
        made = [(self.make_and_validate_key(key), ttl) for key, ttl in counters]
        base: Any = self  # Django's client property (not in its stubs)
        counts: list[int] = base._cache.counts_incr(made)
        return counts
