"""A task for the worker-kill test: it records each attempt in Redis, works
for a while, then records that it finished. Idempotent, as tasks under
``acks_late`` must be."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache


@shared_task  # type: ignore[untyped-decorator]
def probe_slow(key: str, seconds: float) -> str:
    cache.add(f"probe:{key}:attempts", 0, timeout=600)
    cache.incr(f"probe:{key}:attempts")
    time.sleep(seconds)
    cache.set(f"probe:{key}:done", 1, timeout=600)
    return "done"
