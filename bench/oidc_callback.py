"""OpenID Connect sign-in cost: one callback request, and its parts.

``python -m bench.oidc_callback`` (or ``make bench``), on the PostgreSQL of
``DATABASE_URL`` (``sso_bench`` by default) and the Redis of ``REDIS_URL``,
against the development IdP's OpenID provider served on loopback by this
same process (no TLS). The callback does: state check, code exchange at the
provider's token endpoint (one HTTP round trip; the provider signs the ID
token), ID token checks with the cached JWKS, sign-in (session, audit),
redirect. Reports:

- one callback request through the Django test client (ms), with the SQL
  statements it runs; the flow's start and the provider's login page are
  not timed;
- ``id_token_verify`` alone, discovery and JWKS cached (us).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench._setup import django_setup, report

REQUESTS = 100
WARMUP = 10


def _serve() -> tuple[Any, str]:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.handlers.wsgi import WSGIHandler

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = make_server("127.0.0.1", 0, WSGIHandler(), Server, Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_port}"


def _provider_answer(authorize_url: str) -> str:
    """Sign in at the provider's page as a demo agent; return the callback URL."""
    import requests

    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, page.text[:300]
    form = {"csrfmiddlewaretoken": token.group(1), "email": "olga@oidc-demo.example", "mfa": "1"}
    answer = browser.post(authorize_url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    return str(answer.headers["Location"])


def main() -> None:
    django_setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from devidp import demo_oidc
    from sso.oidc.flows import oidc_settings_get
    from sso.oidc.provider import provider_get
    from sso.oidc.tokens import id_token_verify
    from tenants.models import Audience, Site

    httpd, base = _serve()
    cache.clear()
    demo_oidc.configure(base_url=base)
    site = Site.objects.get(site_id=demo_oidc.DEMO_SITE_ID)
    config = oidc_settings_get(site=site, audience=Audience.AGENT)
    assert config is not None

    statements: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        statements.append(sql)
        return execute(sql, *args)

    samples: list[float] = []
    nonce = ""
    for i in range(REQUESTS + WARMUP):
        client = Client()
        start = client.get(f"/sso/{site.site_id}/agent/login/")
        nonce = parse_qs(urlsplit(start["Location"]).query)["nonce"][0]
        callback = _provider_answer(start["Location"])
        statements.clear()
        with connection.execute_wrapper(count):
            began = time.perf_counter()
            response = client.get(callback)
            elapsed = time.perf_counter() - began
        assert response.status_code == 302, response.content[:300]
        if i >= WARMUP:  # discovery, JWKS, connections
            samples.append(elapsed)
    report("OIDC callback request (whole)", samples, "ms")
    print(f"{'SQL statements per callback':<48} {len(statements)}")

    # The ID token checks alone: one more token, verified again and again.
    client = Client()
    start = client.get(f"/sso/{site.site_id}/agent/login/")
    nonce = parse_qs(urlsplit(start["Location"]).query)["nonce"][0]
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    code = parse_qs(urlsplit(_provider_answer(start["Location"])).query)["code"][0]
    id_token = _id_token(client, config, code=code, state=state)
    provider = provider_get(issuer=config.issuer)
    verify_samples: list[float] = []
    for _ in range(300):
        began = time.perf_counter()
        id_token_verify(
            id_token=id_token, provider=provider, client_id=config.client_id, nonce=nonce
        )
        verify_samples.append(time.perf_counter() - began)
    report("id_token_verify (JWKS cached)", verify_samples, "us")
    httpd.shutdown()


def _id_token(client: Any, config: Any, *, code: str, state: str) -> str:
    """Exchange ``code`` as the callback would, with the flow's verifier."""
    import hashlib

    from sso.oidc.client import oidc_client, oidc_code_exchange
    from sso.oidc.flows import PENDING_KEY
    from sso.oidc.provider import provider_get

    flow = client.session[PENDING_KEY][hashlib.sha256(state.encode()).hexdigest()]
    provider = provider_get(issuer=config.issuer)
    callback = f"http://testserver/sso/{config.site.site_id}/agent/oidc/callback/"
    session = oidc_client(config=config, provider=provider, redirect_uri=callback)
    token = oidc_code_exchange(
        client=session, provider=provider, code=code, verifier=flow["verifier"]
    )
    return str(token["id_token"])


if __name__ == "__main__":
    main()
