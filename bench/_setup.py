"""Shared set-up for benchmarks: Django on a throw-away PostgreSQL database."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import django


def django_setup() -> None:
    """Configure Django with test settings on the ``sso_bench`` database, migrated."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.test")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sso_bench")
    import psycopg

    url = os.environ["DATABASE_URL"]
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn: Callable[[], object], *, runs: int, warmup: int = 20) -> list[float]:
    """Return the wall time of each of ``runs`` calls of ``fn``, in seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def report(label: str, samples: list[float], unit: str = "ms") -> None:
    """Print median and p95 of ``samples`` in ``unit``."""
    scale = {"ms": 1e3, "us": 1e6}[unit]
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{label:<48} median {statistics.median(samples) * scale:8.3f} {unit}"
        f"   p95 {p95 * scale:8.3f} {unit}   n={len(samples)}"
    )
