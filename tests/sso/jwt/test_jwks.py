"""Keys from a JWKS URL served over real HTTP by a local server."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from sso.jwt.keys import _cache_key, jwks_problem
from sso.jwt.models import JwtSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.fixtures.jwt import (
    JwksServer,
    JwtFactory,
    Keyring,
    callback_url,
    jwk,
    reason_on_page,
)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_jwks_is_fetched_once_and_cached(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
    alg: str,
) -> None:
    key = keyring.rsa if alg == "RS256" else keyring.ec
    jwks_server.document = {"keys": [jwk(key, "k1", alg)]}
    jwt_configure(site, alg, public_key="", jwks_url=jwks_server.url)

    for _ in range(3):
        token = jwt_factory(site, alg, headers={"kid": "k1"})
        assert Client().get(callback_url(site), {"jwt": token}).status_code == 302

    assert jwks_server.requests == 1


def test_kid_rotation_on_the_server_is_picked_up_once(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "2025", "RS256")]}
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    first = jwt_factory(site, headers={"kid": "2025"})
    assert client.get(callback_url(site), {"jwt": first}).status_code == 302

    # The customer rotates: a new key under a new kid, the old one kept.
    jwks_server.document = {
        "keys": [jwk(keyring.rsa, "2025", "RS256"), jwk(keyring.rsa_next, "2026", "RS256")]
    }
    rotated = jwt_factory(site, key=keyring.rsa_next, headers={"kid": "2026"})
    assert Client().get(callback_url(site), {"jwt": rotated}).status_code == 302
    assert jwks_server.requests == 2

    # Made-up kids do not make us hammer the customer's server: at most one
    # refetch per interval, and that one was just spent on the rotation.
    for kid in ("x1", "x2", "x3"):
        forged = jwt_factory(site, key=keyring.other_rsa, headers={"kid": kid})
        response = Client().get(callback_url(site), {"jwt": forged})
        assert reason_on_page(response) == RefusalReason.JWT_UNKNOWN_KEY
    assert jwks_server.requests == 2
    cache.delete(_cache_key(jwks_server.url, "refetch"))  # the interval has passed
    forged = jwt_factory(site, key=keyring.other_rsa, headers={"kid": "x4"})
    assert reason_on_page(Client().get(callback_url(site), {"jwt": forged})) == "jwt_unknown_key"
    assert jwks_server.requests == 3


def test_jwks_never_serves_an_hmac_key_or_a_key_of_another_algorithm(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
) -> None:
    jwks_server.document = {
        "keys": [
            {"kty": "oct", "kid": "k1", "k": "c2VjcmV0"},
            jwk(keyring.ec, "k1", "ES256"),
            {**jwk(keyring.rsa, "k1", "RS256"), "use": "enc"},
        ]
    }
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    token = jwt_factory(site, headers={"kid": "k1"})
    assert reason_on_page(client.get(callback_url(site), {"jwt": token})) == "jwt_unknown_key"


@pytest.mark.parametrize("failure", ["status_500", "redirect", "not_json", "timeout", "down"])
def test_unreachable_jwks_is_refused_cleanly(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    jwks_server: JwksServer,
    settings: Any,
    failure: str,
) -> None:
    settings.SSO_JWKS_TIMEOUT_SECONDS = 0.3
    url = jwks_server.url
    if failure == "status_500":
        jwks_server.status = 500
    elif failure == "redirect":
        jwks_server.status = 302
    elif failure == "not_json":
        jwks_server.document = ["no", "keys"]  # type: ignore[assignment]
    elif failure == "timeout":
        jwks_server.delay = 1.0
    else:
        url = "http://127.0.0.1:9/jwks.json"  # discard port: nothing listens
    jwt_configure(site, public_key="", jwks_url=url)

    response = client.get(callback_url(site), {"jwt": jwt_factory(site, headers={"kid": "k1"})})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.JWKS_UNAVAILABLE


def test_last_jwks_keeps_serving_while_the_server_is_down(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    assert Client().get(callback_url(site), {"jwt": jwt_factory(site)}).status_code == 302

    jwks_server.status = 503
    cache.delete(_cache_key(jwks_server.url, "doc"))  # the TTL has run out
    for _ in range(2):
        assert Client().get(callback_url(site), {"jwt": jwt_factory(site)}).status_code == 302
    assert jwks_server.requests == 2  # one failed refetch, then a pause


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/jwks.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/jwks.json",
        "https://[::1]/jwks.json",
        "https://localhost/jwks.json",
    ],
)
def test_jwks_url_on_an_internal_address_is_not_fetched(settings: Any, url: str) -> None:
    settings.SSO_JWKS_ALLOW_PRIVATE = False
    problem = jwks_problem(url, "RS256")
    assert problem == "The JWKS could not be fetched: the host resolves to a non-public address."


def test_the_local_server_itself_is_refused_without_the_test_allowance(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
    settings: Any,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    settings.SSO_JWKS_ALLOW_PRIVATE = False
    response = client.get(callback_url(site), {"jwt": jwt_factory(site, headers={"kid": "k1"})})
    assert reason_on_page(response) == RefusalReason.JWKS_UNAVAILABLE
    assert jwks_server.requests == 0


@pytest.mark.parametrize(
    ("served_alg", "status", "message"),
    [
        ("RS256", 200, None),
        ("ES256", 200, "The JWKS at this URL holds no RS256 signing key."),
        ("RS256", 404, "The JWKS could not be fetched: HTTP 404."),
    ],
)
def test_admin_checks_a_jwks_url_when_saving(
    admin_client: Client,
    site: Site,
    keyring: Keyring,
    jwks_server: JwksServer,
    served_alg: str,
    status: int,
    message: str | None,
) -> None:
    key = keyring.rsa if served_alg == "RS256" else keyring.ec
    jwks_server.document = {"keys": [jwk(key, "k1", served_alg)]}
    jwks_server.status = status
    form = {
        "site": site.pk,
        "audience": "agent",
        "enabled": "on",
        "login_url": "https://login.shop.example/",
        "algorithm": "RS256",
        "jwks_url": jwks_server.url,
        "max_age": 300,
        "leeway": 60,
        "max_token_bytes": 8192,
        "jit_role": "agent",
        "mfa_methods": "mfa",
    }
    response = admin_client.post("/admin/sso_jwt/jwtsettings/add/", form)
    if message is None:
        assert response.status_code == 302
        assert JwtSettings.objects.filter(site=site, jwks_url=jwks_server.url).exists()
    else:
        assert message in response.content.decode()
        assert not JwtSettings.objects.exists()


def test_jwks_sign_in_survives_a_redis_outage(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
    settings: Any,
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)

    for _ in range(2):
        token = jwt_factory(site, headers={"kid": "k1"})
        assert Client().get(callback_url(site), {"jwt": token}).status_code == 302
    assert jwks_server.requests == 1  # the process kept the document itself

    jwks_server.document["keys"].append(jwk(keyring.rsa_next, "k2", "RS256"))
    rotated = jwt_factory(site, key=keyring.rsa_next, headers={"kid": "k2"})
    assert Client().get(callback_url(site), {"jwt": rotated}).status_code == 302
    assert jwks_server.requests == 2


def sign_in_concurrently(site: Site, tokens: list[str]) -> list[int]:
    """Post each token to the callback from its own thread, all at once."""
    start = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def sign_in(token: str) -> None:
        try:
            start.wait()
            statuses.append(Client().post(callback_url(site), {"jwt": token}).status_code)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=sign_in, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


SIGN_INS = 8


@pytest.mark.django_db(transaction=True)  # the threads read what the test wrote
def test_a_cold_cache_stampede_fetches_the_jwks_once(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwks_server.delay = 0.3  # every sign-in arrives while the first fetch runs
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    tokens = [jwt_factory(site, headers={"kid": "k1"}) for _ in range(SIGN_INS)]

    statuses = sign_in_concurrently(site, tokens)

    assert statuses == [302] * SIGN_INS
    assert jwks_server.requests == 1
    assert cache.get(_cache_key(jwks_server.url, "lock")) is None  # released


@pytest.mark.django_db(transaction=True)
def test_when_the_fetching_request_fails_one_waiter_fetches_for_the_rest(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwks_server.delay = 0.3
    jwks_server.failures = 1  # the first fetch gets a 503; no last document to fall back on
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    tokens = [jwt_factory(site, headers={"kid": "k1"}) for _ in range(SIGN_INS)]

    statuses = sign_in_concurrently(site, tokens)

    assert sorted(statuses) == [302] * (SIGN_INS - 1) + [403]  # the lock holder is refused
    assert jwks_server.requests == 2


@pytest.mark.django_db(transaction=True)
def test_waiters_fetch_themselves_when_the_fetch_outlasts_their_wait(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
    settings: Any,
) -> None:
    # A lock left by a request that died (its expiry not yet reached) holds
    # nobody up for longer than the fetch timeout.
    settings.SSO_JWKS_TIMEOUT_SECONDS = 0.5
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    cache.set(_cache_key(jwks_server.url, "lock"), "dead", timeout=30)

    started = time.monotonic()
    token = jwt_factory(site, headers={"kid": "k1"})
    assert Client().post(callback_url(site), {"jwt": token}).status_code == 302
    assert 0.5 <= time.monotonic() - started < 3
    assert jwks_server.requests == 1
