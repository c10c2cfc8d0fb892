"""OpenID Connect sign-in cost: one callback request, and its parts.

``python -m bench.oidc_callback`` (or ``make bench``), on the PostgreSQL of
``DATABASE_URL`` (``sso_bench`` by default) and the Redis of ``REDIS_URL``,
against the tests' authlib provider on loopback (no TLS). The callback does:
state check, code exchange at the provider's token endpoint (one HTTP round
trip; the provider signs the ID token), ID token checks with the cached
JWKS, sign-in (session, audit), redirect. Reports:

- ``id_token_verify`` alone, discovery and JWKS cached (us);
- one callback request through the Django test client (ms), with the SQL
  statements it runs. The flow's start and the provider's login are not
  timed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench._setup import django_setup, report

REQUESTS = 100


def main() -> None:
    django_setup()
    import requests
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from sso.oidc.models import OidcSettings
    from sso.oidc.provider import provider_get
    from sso.oidc.tokens import id_token_verify
    from sso.secret_store import secret_encrypt
    from tenants.models import Agent, Site
    from tests.sso.oidc.provider import OpenIDProvider, provider_serve

    idp = OpenIDProvider()
    httpd, _thread = provider_serve(idp)
    cache.clear()
    site, _ = Site.objects.get_or_create(site_id=90200, defaults={"name": "OIDC bench"})
    Agent.objects.get_or_create(site=site, email="agent@oidc-bench.example")
    idp.add_user("agent@oidc-bench.example")
    idp.auto_login = "agent@oidc-bench.example"
    callback_uri = f"http://testserver/sso/{site.site_id}/agent/oidc/callback/"
    idp.add_client("bench", "bench-secret", callback_uri)
    OidcSettings.objects.update_or_create(
        site=site,
        audience="agent",
        defaults={
            "issuer": idp.issuer,
            "client_id": "bench",
            "client_secret_encrypted": secret_encrypt("bench-secret"),
        },
    )

    statements: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        statements.append(sql)
        return execute(sql, *args)

    samples: list[float] = []
    verify_samples: list[float] = []
    for i in range(REQUESTS + 10):
        client = Client()
        start = client.get(f"/sso/{site.site_id}/agent/login/")
        answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
        callback = answer.headers["Location"]
        statements.clear()
        with connection.execute_wrapper(count):
            began = time.perf_counter()
            response = client.get(callback)
            elapsed = time.perf_counter() - began
        assert response.status_code == 302, response.content[:300]
        if i >= 10:  # warm-up: discovery, JWKS, connections
            samples.append(elapsed)
    report("OIDC callback request (whole)", samples, "ms")
    print(f"{'SQL statements per callback':<48} {len(statements)}")

    # The ID token checks alone, on the last token the provider issued.
    provider = provider_get(issuer=idp.issuer)
    nonce = parse_qs(urlsplit(start["Location"]).query)["nonce"][0]
    for _ in range(200):
        began = time.perf_counter()
        id_token_verify(
            id_token=idp.last_id_token, provider=provider, client_id="bench", nonce=nonce
        )
        verify_samples.append(time.perf_counter() - began)
    report("id_token_verify (JWKS cached)", verify_samples, "us")
    httpd.shutdown()


if __name__ == "__main__":
    main()
