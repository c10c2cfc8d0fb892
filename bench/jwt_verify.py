"""JWT sign-in cost: verification per token, and one whole callback request.

``python -m bench.jwt_verify`` (or ``make bench``), on the PostgreSQL of
``DATABASE_URL`` (``sso_bench`` by default) and the Redis of ``REDIS_URL``.
Reports, per algorithm:

- PyJWT decode with the key object loaded once (us);
- our checks without the replay store: key lookup in the in-process cache,
  decode, claim checks (us);
- ``verify_site_jwt`` whole, with its committed ``jti`` insert (us);
- one callback request through the Django test client: verify, sign in,
  session, audit, redirect (ms), and the SQL statements it runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from bench._setup import django_setup, report, timed

ALGORITHMS = ("HS256", "RS256", "ES256")
TOKENS = 2000
REQUESTS = 300


class _Counter:
    """Count SQL statements (request_started clears ``connection.queries``)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Any, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, *args)


def _keys() -> tuple[str, dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    secret = uuid.uuid4().hex + uuid.uuid4().hex
    return secret, {
        "HS256": secret.encode(),
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
    }


def _configure(alg: str, number: int, secret: str, private: Any) -> Any:
    from cryptography.hazmat.primitives import serialization

    from sso.jwt.models import JwtSettings
    from sso_site.secret_store import secret_encrypt
    from tenants.models import Agent, Site

    site, _ = Site.objects.get_or_create(site_id=90100 + number, defaults={"name": alg})
    Agent.objects.get_or_create(site=site, email=f"agent@{site.site_id}.example")
    keys = {"secret_encrypted": secret_encrypt(secret), "public_key": ""}
    if alg != "HS256":
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys = {"secret_encrypted": "", "public_key": pem.decode()}
    defaults = {"enabled": True, "login_url": "https://login.example/", "algorithm": alg}
    defaults |= {"expected_issuer": "bench", "expected_audience": "sso", **keys}
    config, _ = JwtSettings.objects.update_or_create(site=site, audience="agent", defaults=defaults)
    return config


def _measure(alg: str, config: Any, make: Callable[[], str]) -> None:
    import jwt
    from django.db import connection
    from django.test import Client

    from sso.jwt.keys import site_keys
    from sso.jwt.verify import _check_claims, _decode, _Refuser, verify_site_jwt

    site = config.site
    sample = make()
    key = site_keys(config=config, kid=None)[0].key
    decode = lambda: jwt.decode(sample, key, algorithms=[alg], audience="sso")  # noqa: E731
    report(f"{alg} PyJWT decode, key loaded once", timed(decode, runs=TOKENS), unit="us")
    refuse = _Refuser(site, "agent")

    def ours() -> None:
        keys = site_keys(config=config, kid=None)
        claims = _decode(sample, keys=keys, settings=config, refuse=refuse)
        _check_claims(claims, settings=config, refuse=refuse)

    report(f"{alg} our checks, no replay store", timed(ours, runs=TOKENS), unit="us")
    tokens = iter([make() for _ in range(TOKENS + 20)])
    whole = lambda: verify_site_jwt(site=site, settings=config, token=next(tokens))  # noqa: E731
    report(f"{alg} verify_site_jwt (with jti insert)", timed(whole, runs=TOKENS), unit="us")

    url = f"/sso/{site.site_id}/agent/jwt/"
    counter = _Counter()
    with connection.execute_wrapper(counter):
        assert Client().get(url, {"jwt": make()}).status_code == 302
    requests = iter([make() for _ in range(REQUESTS + 20)])

    def callback() -> None:
        response = Client().get(url, {"jwt": next(requests)})
        assert response.status_code == 302, response.content[:300]

    report(f"{alg} whole callback request (test client)", timed(callback, runs=REQUESTS))
    real = [sql for sql in counter.statements if "SAVEPOINT" not in sql]
    savepoints = len(counter.statements) - len(real)
    print(f"{alg} SQL statements per sign-in: {len(real)} (+{savepoints} savepoints)")


def main() -> None:
    django_setup()
    import jwt
    from django.db import connection

    # As in production (base settings): persistent database connections.
    connection.settings_dict["CONN_MAX_AGE"] = 60
    secret, private = _keys()
    for number, alg in enumerate(ALGORITHMS):
        config = _configure(alg, number, secret, private[alg])

        def make(alg: str = alg, site_id: int = config.site.site_id) -> str:
            now = int(time.time())
            claims = {"iat": now, "exp": now + 120, "jti": uuid.uuid4().hex, "iss": "bench"}
            claims |= {"aud": "sso", "email": f"agent@{site_id}.example"}
            return jwt.encode(claims, private[alg], algorithm=alg)

        _measure(alg, config, make)


if __name__ == "__main__":
    main()
