"""Forged and misused JWTs: each is refused with its reason, and no session.

Every row is ``(forgery, expected_reason)``. A forgery gets the attack
context and returns the token to present (or None for none) and any extra
query parameters; it may change the site first (disable it, deactivate the
agent, use the token once already).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connections
from django.test import Client

from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tests.factories import AgentFactory, SiteFactory
from tests.fixtures.jwt import (
    JwtFactory,
    Keyring,
    callback_url,
    public_pem,
    reason_on_page,
    session_binding,
)


@dataclass
class Ctx:
    site: Site
    agent: Agent
    make: JwtFactory
    keys: Keyring
    alg: str


Forgery = Callable[[Ctx], tuple[str | None, dict[str, str]]]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_claims(ctx: Ctx, **changes: Any) -> dict[str, Any]:
    """Return the claims of a token ``ctx.make`` would sign, with ``changes``."""
    return jwt.decode(ctx.make(ctx.site, ctx.alg, **changes), options={"verify_signature": False})


def hand_made(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def alg_none(ctx: Ctx) -> str:
    return hand_made({"alg": "none", "typ": "JWT"}, valid_claims(ctx), lambda _: b"")


def hs256_with_public_key(ctx: Ctx) -> str:
    # The classic key confusion: HMAC keyed with the site's public key PEM.
    pem = public_pem(ctx.keys.rsa).encode()
    return hand_made(
        {"alg": "HS256", "typ": "JWT"},
        valid_claims(ctx),
        lambda data: hmac.new(pem, data, hashlib.sha256).digest(),
    )


def tampered(ctx: Ctx) -> str:
    header, _, signature = ctx.make(ctx.site, ctx.alg).split(".")
    claims = valid_claims(ctx, email="boss@shop.example")
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def embedded_jwk(ctx: Ctx) -> str:
    # The attacker's own key in the header ("jwk"/"jku") is never trusted.
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    headers = {"jwk": public, "jku": "https://evil.example/jwks.json", "kid": "evil"}
    return ctx.make(ctx.site, "RS256", key=attacker, headers=headers)


def replayed(ctx: Ctx) -> str:
    token = ctx.make(ctx.site, ctx.alg)
    assert Client().get(callback_url(ctx.site), {"jwt": token}).status_code == 302
    return token


def inactive_agent(ctx: Ctx) -> str:
    Agent.objects.filter(pk=ctx.agent.pk).update(is_active=False)
    return ctx.make(ctx.site, ctx.alg)


def disabled_site(ctx: Ctx) -> str:
    Site.objects.filter(pk=ctx.site.pk).update(is_active=False)
    return ctx.make(ctx.site, ctx.alg)


def other_sites_agent(ctx: Ctx) -> str:
    other = AgentFactory.create(site=SiteFactory.create(), email="carol@b.example")
    return ctx.make(ctx.site, ctx.alg, email=other.email)


def token(**claims: Any) -> Forgery:
    return lambda ctx: (ctx.make(ctx.site, ctx.alg, **claims), {})


def signed_with(key: Callable[[Keyring], Any], alg: str | None = None) -> Forgery:
    return lambda ctx: (ctx.make(ctx.site, alg or ctx.alg, key=key(ctx.keys)), {})


def plain(forge: Callable[[Ctx], str]) -> Forgery:
    return lambda ctx: (forge(ctx), {})


ATTACKS: list[tuple[str, str, Forgery, RefusalReason]] = [
    ("alg_none", "RS256", plain(alg_none), RefusalReason.JWT_BAD_ALGORITHM),
    ("alg_none_hmac_site", "HS256", plain(alg_none), RefusalReason.JWT_BAD_ALGORITHM),
    (
        "hs256_keyed_with_public_pem",
        "RS256",
        plain(hs256_with_public_key),
        RefusalReason.JWT_BAD_ALGORITHM,
    ),
    (
        "rs256_at_hs256_site",
        "HS256",
        signed_with(lambda k: k.rsa, "RS256"),
        RefusalReason.JWT_BAD_ALGORITHM,
    ),
    (
        "es256_at_rs256_site",
        "RS256",
        signed_with(lambda k: k.ec, "ES256"),
        RefusalReason.JWT_BAD_ALGORITHM,
    ),
    (
        "other_sites_rsa_key",
        "RS256",
        signed_with(lambda k: k.other_rsa),
        RefusalReason.JWT_BAD_SIGNATURE,
    ),
    (
        "other_sites_secret",
        "HS256",
        signed_with(lambda k: k.other_secret.encode()),
        RefusalReason.JWT_BAD_SIGNATURE,
    ),
    ("other_ec_key", "ES256", signed_with(lambda k: k.ec_next), RefusalReason.JWT_BAD_SIGNATURE),
    ("tampered_payload", "RS256", plain(tampered), RefusalReason.JWT_BAD_SIGNATURE),
    ("tampered_hmac_payload", "HS256", plain(tampered), RefusalReason.JWT_BAD_SIGNATURE),
    ("embedded_jwk_and_jku", "RS256", plain(embedded_jwk), RefusalReason.JWT_BAD_SIGNATURE),
    (
        "expired",
        "RS256",
        lambda c: (c.make(c.site, iat=int(time.time()) - 200, exp=int(time.time()) - 61), {}),
        RefusalReason.JWT_EXPIRED,
    ),
    (
        "nbf_in_future",
        "RS256",
        lambda c: (c.make(c.site, nbf=int(time.time()) + 120), {}),
        RefusalReason.JWT_NOT_YET_VALID,
    ),
    (
        "iat_in_future",
        "ES256",
        lambda c: (
            c.make(c.site, "ES256", iat=int(time.time()) + 120, exp=int(time.time()) + 200),
            {},
        ),
        RefusalReason.JWT_NOT_YET_VALID,
    ),
    (
        "iat_older_than_max_age",
        "RS256",
        lambda c: (c.make(c.site, iat=int(time.time()) - 400, exp=int(time.time()) + 30), {}),
        RefusalReason.JWT_TOO_OLD,
    ),
    (
        "lifetime_over_max_age",
        "HS256",
        lambda c: (c.make(c.site, "HS256", exp=int(time.time()) + 3600), {}),
        RefusalReason.JWT_TOO_OLD,
    ),
    ("missing_jti", "RS256", token(jti=None), RefusalReason.JWT_MISSING_CLAIM),
    ("missing_exp", "RS256", token(exp=None), RefusalReason.JWT_MISSING_CLAIM),
    (
        "missing_iat",
        "HS256",
        lambda c: (c.make(c.site, "HS256", iat=None), {}),
        RefusalReason.JWT_MISSING_CLAIM,
    ),
    ("non_string_jti", "RS256", token(jti=12345), RefusalReason.JWT_MALFORMED),
    ("replayed_jti", "RS256", plain(replayed), RefusalReason.REPLAY),
    ("replayed_jti_hmac", "HS256", plain(replayed), RefusalReason.REPLAY),
    ("wrong_iss", "RS256", token(iss="https://evil.example/"), RefusalReason.JWT_WRONG_ISSUER),
    ("missing_iss", "RS256", token(iss=None), RefusalReason.JWT_MISSING_CLAIM),
    ("wrong_aud", "RS256", token(aud="another-service"), RefusalReason.JWT_WRONG_AUDIENCE),
    ("missing_email", "RS256", token(email=None), RefusalReason.JWT_NO_EMAIL),
    ("email_not_an_address", "RS256", token(email="alice"), RefusalReason.JWT_NO_EMAIL),
    ("email_not_a_string", "RS256", token(email=["a@b.example"]), RefusalReason.JWT_NO_EMAIL),
    ("unknown_email", "RS256", token(email="mallory@shop.example"), RefusalReason.UNKNOWN_AGENT),
    ("agent_of_another_site", "RS256", plain(other_sites_agent), RefusalReason.UNKNOWN_AGENT),
    ("inactive_agent", "RS256", plain(inactive_agent), RefusalReason.AGENT_INACTIVE),
    ("disabled_site", "RS256", plain(disabled_site), RefusalReason.SITE_DISABLED),
    ("oversized_token", "RS256", token(padding="x" * 9000), RefusalReason.JWT_TOO_LARGE),
    (
        "return_to_foreign_origin",
        "RS256",
        lambda c: (c.make(c.site), {"return_to": "https://evil.example/"}),
        RefusalReason.UNSAFE_REDIRECT,
    ),
    (
        "return_to_scheme_relative",
        "RS256",
        lambda c: (c.make(c.site), {"return_to": "//evil.example/"}),
        RefusalReason.UNSAFE_REDIRECT,
    ),
    ("not_a_jwt", "RS256", lambda c: ("abc.def", {}), RefusalReason.JWT_MALFORMED),
    ("no_token", "RS256", lambda c: (None, {}), RefusalReason.JWT_MISSING),
    ("no_mfa", "RS256", token(amr=["pwd"]), RefusalReason.MFA_REQUIRED),
]

MFA_SITES = {"no_mfa"}


@pytest.mark.parametrize(
    ("site_alg", "forgery", "reason"),
    [pytest.param(alg, forge, reason, id=name) for name, alg, forge, reason in ATTACKS],
)
def test_jwt_callback_refuses_forgery(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    site_alg: str,
    forgery: Forgery,
    reason: RefusalReason,
) -> None:
    mfa = request.node.callspec.id in MFA_SITES
    jwt_configure(site, site_alg, mfa_required=mfa)
    ctx = Ctx(site=site, agent=jwt_agent, make=jwt_factory, keys=keyring, alg=site_alg)
    presented, params = forgery(ctx)
    successes_before = LoginEvent.objects.filter(outcome="success").count()
    caplog.set_level(logging.DEBUG)

    query = {**params, **({"jwt": presented} if presented is not None else {})}
    response = client.get(callback_url(site), query)

    assert response.status_code == reason.status
    assert reason_on_page(response) == reason
    assert session_binding(client) is None
    assert LoginEvent.objects.filter(outcome="success").count() == successes_before
    event = LoginEvent.objects.filter(outcome="refused").latest("created_at")
    assert event.reason == reason
    if presented:  # neither the token nor its signature reaches the audit log or logs
        stored = json.dumps(event.detail) + event.subject + caplog.text
        assert presented not in stored
        assert all(part not in stored for part in presented.split(".") if len(part) > 8)


def test_unknown_site_is_refused_like_a_disabled_one(client: Client, db: None) -> None:
    response = client.get("/sso/99999/agent/jwt/", {"jwt": "x.y.z"})
    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.SITE_DISABLED
    assert session_binding(client) is None


def test_site_without_jwt_settings_is_not_configured(
    client: Client, site: Site, jwt_factory: JwtFactory
) -> None:
    response = client.get(callback_url(site), {"jwt": jwt_factory(site)})
    assert reason_on_page(response) == RefusalReason.NOT_CONFIGURED
    assert session_binding(client) is None


def test_a_token_for_site_b_does_not_sign_in_at_site_a(
    client: Client,
    site: Site,
    other_site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
) -> None:
    jwt_configure(site)
    jwt_configure(other_site, public_key=public_pem(keyring.other_rsa))
    AgentFactory.create(site=other_site, email=jwt_agent.email)
    token_b = jwt_factory(other_site, key=keyring.other_rsa, email=jwt_agent.email)

    response = client.get(callback_url(site), {"jwt": token_b})

    assert reason_on_page(response) == RefusalReason.JWT_BAD_SIGNATURE
    assert session_binding(client) is None


def test_a_token_raced_from_two_browsers_signs_in_exactly_once(
    transactional_db: None,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
) -> None:
    jwt_configure(site)
    stolen = jwt_factory(site)
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str | None]] = []

    def present() -> None:
        client = Client()
        try:
            barrier.wait()
            response = client.get(callback_url(site), {"jwt": stolen})
            code = reason_on_page(response) if response.status_code != 302 else None
            answers.append((response.status_code, code))
        finally:
            connections.close_all()  # this thread's own database connection

    threads = [threading.Thread(target=present) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers, key=str) == sorted(
        [(302, None), *[(403, RefusalReason.REPLAY.value)] * 3], key=str
    )
    assert LoginEvent.objects.filter(outcome="success").count() == 1
