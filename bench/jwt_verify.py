"""Benchmark JWT sign-in: verification per token, and one whole callback.

Run with ``python -m bench.jwt_verify`` (PostgreSQL and Redis from
``DATABASE_URL``/``REDIS_URL`` as for the tests; a throw-away database
``bench_<name>`` is created and dropped). Prints medians:

- PyJWT decode with the key object loaded once, per algorithm (us);
- our verification without the replay store (key lookup from the
  in-process cache, decode, claim checks) (us);
- ``verify_site_jwt`` whole, including the ``jti`` insert (us);
- one callback request through the Django test client: verify, sign in,
  session, audit, redirect (ms), and the SQL statements it runs.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.test")
django.setup()

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ALGORITHMS = ("HS256", "RS256", "ES256")
ROUNDS = 2000
REQUESTS = 300


def median_us(fn: Callable[[], Any], rounds: int = ROUNDS) -> float:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    setup_test_environment()
    # As in production (base settings): persistent connections.
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["TEST"]["NAME"] = f"bench_{connection.settings_dict['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run() -> None:
    from cryptography.hazmat.primitives import serialization

    from sso.jwt.keys import site_keys
    from sso.jwt.models import JwtSettings
    from sso.jwt.secret_store import secret_encrypt
    from sso.jwt.verify import _check_claims, _decode, _Refuser, verify_site_jwt
    from tenants.models import Agent, Site

    secret = uuid.uuid4().hex + uuid.uuid4().hex
    private = {
        "HS256": secret.encode(),
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
    }

    def pem(key: Any) -> str:
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def token(alg: str, site_id: int) -> str:
        now = int(time.time())
        claims = {"iat": now, "exp": now + 120, "jti": uuid.uuid4().hex}
        claims |= {"iss": "bench", "aud": "sso", "email": f"agent@{site_id}.example"}
        return jwt.encode(claims, private[alg], algorithm=alg)

    print(f"JWT verification, median of {ROUNDS} (microseconds per token)")
    print(f"{'alg':6} {'PyJWT decode':>13} {'our checks':>11} {'+ jti insert':>13}")
    configs = {}
    for number, alg in enumerate(ALGORITHMS):
        site = Site.objects.create(site_id=30000 + number, name=f"Bench {alg}")
        Agent.objects.create(site=site, email=f"agent@{site.site_id}.example")
        fields: dict[str, Any] = (
            {"secret_encrypted": secret_encrypt(secret)}
            if alg == "HS256"
            else {"public_key": pem(private[alg])}
        )
        config = JwtSettings.objects.create(
            site=site,
            enabled=True,
            login_url="https://login.example/",
            algorithm=alg,
            expected_issuer="bench",
            expected_audience="sso",
            **fields,
        )
        configs[alg] = config
        sample = token(alg, site.site_id)
        key = site_keys(config=config, kid=None)[0].key
        decode_us = median_us(
            lambda s=sample, k=key, a=alg: jwt.decode(s, k, algorithms=[a], audience="sso")
        )
        refuse = _Refuser(site, "agent")

        def ours(s: str = sample, c: JwtSettings = config, r: _Refuser = refuse) -> None:
            claims = _decode(s, keys=site_keys(config=c, kid=None), settings=c, refuse=r)
            _check_claims(claims, settings=c, refuse=r)

        ours_us = median_us(ours)
        tokens = iter([token(alg, site.site_id) for _ in range(ROUNDS + 60)])
        full_us = median_us(
            lambda c=config, t=tokens: verify_site_jwt(site=c.site, settings=c, token=next(t))
        )
        print(f"{alg:6} {decode_us:13.0f} {ours_us:11.0f} {full_us:13.0f}")

    print(f"\nWhole callback request (test client, PostgreSQL), median of {REQUESTS}")
    for alg, config in configs.items():
        url = f"/sso/{config.site.site_id}/agent/jwt/"
        tokens_list = [token(alg, config.site.site_id) for _ in range(REQUESTS + 21)]
        statements: list[str] = []
        # request_started clears connection.queries, so count with a wrapper.
        with connection.execute_wrapper(_Counter(statements)):
            assert Client().get(url, {"jwt": tokens_list.pop()}).status_code == 302
        samples = []
        for index, value in enumerate(tokens_list):
            client = Client()
            start = time.perf_counter()
            response = client.get(url, {"jwt": value})
            elapsed = time.perf_counter() - start
            assert response.status_code == 302, response.content[:300]
            if index >= 20:
                samples.append(elapsed)
        real = [sql for sql in statements if "SAVEPOINT" not in sql]
        print(
            f"{alg:6} {statistics.median(samples) * 1e3:6.2f} ms   {len(real)} SQL statements"
            f" (+{len(statements) - len(real)} savepoints)"
        )
        if os.environ.get("BENCH_SHOW_SQL"):
            print("\n".join(s[:90] for s in statements))


class _Counter:
    def __init__(self, statements: list[str]) -> None:
        self.statements = statements

    def __call__(self, execute: Any, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, *args)


if __name__ == "__main__":
    main()
