"""Where a JWT agent sign-in spends its time: a profile of whole callbacks.

``python -m bench.jwt_signin_profile [--runs N] [--top N] [--no-profile]``
(also run by ``make bench``), on the PostgreSQL of ``DATABASE_URL``
(``sso_bench`` by default) and the Redis of ``REDIS_URL``, with persistent
database connections as in production.

Each sign-in is one request through the Django test client with a fresh
RS256 token (minted beforehand, so signing is not counted) and no cookie,
as a new browser would send it. Reports, per sign-in: CPU time of this
process (ms), wall time (ms), SQL statements (and savepoints), Redis
commands; then, unless ``--no-profile``, cProfile's top functions by own
CPU time and by cumulative CPU time over the same loop, so the remaining cost can
be read off rather than guessed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench._setup import django_setup

SITE_ID = 90190


class _Counter:
    """Count SQL statements (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Any, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, *args)


@contextmanager
def _redis_commands() -> Iterator[list[str]]:
    """Yield a list that collects the name of each Redis command sent."""
    import redis

    sent: list[str] = []
    original = redis.Redis.execute_command
    original_pipeline = redis.client.Pipeline.execute

    def counting(self: Any, *args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return original(self, *args, **options)

    def counting_pipeline(self: Any, *args: Any, **options: Any) -> Any:
        # One round trip for the whole pipeline.
        sent.append("PIPELINE(" + "+".join(str(c[0][0]) for c in self.command_stack) + ")")
        return original_pipeline(self, *args, **options)

    redis.Redis.execute_command = counting  # type: ignore[method-assign]
    redis.client.Pipeline.execute = counting_pipeline  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        redis.Redis.execute_command = original  # type: ignore[method-assign]
        redis.client.Pipeline.execute = original_pipeline  # type: ignore[method-assign]


def _site(private: Any) -> Any:
    """Return the bench site's agent JWT settings (RS256), made on first use."""
    from cryptography.hazmat.primitives import serialization

    from sso.jwt.models import JwtSettings
    from tenants.models import Agent, Site

    site, _ = Site.objects.get_or_create(site_id=SITE_ID, defaults={"name": "JWT profile"})
    Agent.objects.get_or_create(site=site, email=f"agent@{SITE_ID}.example")
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config, _ = JwtSettings.objects.update_or_create(
        site=site,
        audience="agent",
        defaults={
            "enabled": True,
            "login_url": "https://login.example/",
            "algorithm": "RS256",
            "public_key": pem.decode(),
            "expected_issuer": "bench",
            "expected_audience": "sso",
        },
    )
    return config


def _tokens(private: Any, count: int) -> Iterator[str]:
    """Return ``count`` fresh tokens, all signed now (signing is not measured)."""
    import jwt

    now = int(time.time())
    minted = []
    for _ in range(count):
        claims = {"iat": now, "exp": now + 240, "jti": uuid.uuid4().hex, "iss": "bench"}
        claims |= {"aud": "sso", "email": f"Agent@{SITE_ID}.example"}
        minted.append(jwt.encode(claims, private, algorithm="RS256"))
    return iter(minted)


def _sign_in_once(url: str, tokens: Iterator[str]) -> Callable[[], None]:
    from django.test import Client

    def sign_in() -> None:
        response = Client().get(url, {"jwt": next(tokens)})
        assert response.status_code == 302, response.content[:300]
        assert response["Location"] == "/console/", response["Location"]

    return sign_in


def _print_profile(profile: cProfile.Profile, *, runs: int, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats(order).print_stats(top)
        print(f"-- top {top} by {order} over {runs} sign-ins (times are totals)")
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start:]).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    django_setup()
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.db import connection

    connection.settings_dict["CONN_MAX_AGE"] = 60  # as in production
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _site(private)
    url = f"/sso/{SITE_ID}/agent/jwt/"
    runs = args.runs
    tokens = _tokens(private, 3 * runs + 100)
    sign_in = _sign_in_once(url, tokens)
    for _ in range(50):  # warm: keys loaded, caches filled, connection open
        sign_in()

    counter = _Counter()
    with connection.execute_wrapper(counter), _redis_commands() as sent:
        sign_in()
    real = [sql for sql in counter.statements if "SAVEPOINT" not in sql]

    cpu, wall = [], []
    for _ in range(runs):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        sign_in()
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    print(f"JWT RS256 agent sign-in through the test client, {runs} fresh tokens")
    print(f"  CPU per sign-in      median {statistics.median(cpu) * 1e3:7.3f} ms")
    print(f"  wall per sign-in     median {statistics.median(wall) * 1e3:7.3f} ms")
    print(f"  CPU per sign-in      mean   {statistics.fmean(cpu) * 1e3:7.3f} ms")
    print(f"  SQL statements       {len(real)} (+{len(counter.statements) - len(real)} savepoints)")
    print(f"  Redis round trips    {len(sent)} ({' '.join(sent)})")
    for sql in counter.statements:
        print(f"    {sql[:150]}")

    if not args.no_profile:
        # CPU time, not wall time: waits on PostgreSQL and Redis (and on the
        # other processes of a busy machine) are not this process's cost.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(runs):
            sign_in()
        profile.disable()
        _print_profile(profile, runs=runs, top=args.top)


if __name__ == "__main__":
    main()
