"""The JWT callback: successful sign-ins, the flow around them, and logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tests.fixtures.jwt import (
    JwtFactory,
    Keyring,
    callback_url,
    public_pem,
    reason_on_page,
    session_binding,
)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256"])
def test_jwt_callback_signs_in_with_each_algorithm(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    alg: str,
) -> None:
    jwt_configure(site, alg)
    token = jwt_factory(site, alg)

    response = client.get(callback_url(site), {"jwt": token})

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert session_binding(client)["principal"] == jwt_agent.pk
    event = LoginEvent.objects.get(outcome="success")
    assert (event.site, event.protocol, event.subject) == (site, "jwt", jwt_agent.email)
    assert token not in str(event.detail)


def test_jwt_callback_accepts_a_posted_form(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, "ES256")
    response = client.post(callback_url(site), {"jwt": jwt_factory(site, "ES256")})
    assert response.status_code == 302
    assert session_binding(client)["principal"] == jwt_agent.pk


def test_get_callback_removes_the_token_from_the_url_and_hides_it(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site)
    token = jwt_factory(site)

    response = client.get(callback_url(site), {"jwt": token, "return_to": "/console/?tab=x"})

    assert response.status_code == 302
    assert response["Location"] == "/console/?tab=x"
    assert "jwt" not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_refusal_page_is_not_cached_nor_referred(
    client: Client, site: Site, jwt_configure: Any
) -> None:
    jwt_configure(site)
    response = client.get(callback_url(site), {"jwt": "not-a-token"})
    assert response.status_code == 400
    assert reason_on_page(response) == RefusalReason.JWT_MALFORMED
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_rotated_key_is_selected_by_kid(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    alg: str,
) -> None:
    old, new = (keyring.rsa, keyring.rsa_next) if alg == "RS256" else (keyring.ec, keyring.ec_next)
    jwt_configure(
        site,
        alg,
        public_key=public_pem(old),
        public_key_id="2025",
        next_public_key=public_pem(new),
        next_public_key_id="2026",
    )
    signed_new = jwt_factory(site, alg, key=new, headers={"kid": "2026"})
    assert client.get(callback_url(site), {"jwt": signed_new}).status_code == 302
    signed_old = jwt_factory(site, alg, key=old, headers={"kid": "2025"})
    assert client.get(callback_url(site), {"jwt": signed_old}).status_code == 302
    # A key under the other key's kid does not verify.
    mislabelled = jwt_factory(site, alg, key=new, headers={"kid": "2025"})
    response = client.get(callback_url(site), {"jwt": mislabelled})
    assert reason_on_page(response) == RefusalReason.JWT_BAD_SIGNATURE
    unknown = jwt_factory(site, alg, key=new, headers={"kid": "2027"})
    assert reason_on_page(client.get(callback_url(site), {"jwt": unknown})) == "jwt_unknown_key"


def test_both_rotation_keys_verify_tokens_without_kid(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
) -> None:
    jwt_configure(site, next_public_key=public_pem(keyring.rsa_next))
    for key in (keyring.rsa, keyring.rsa_next):
        assert (
            client.get(callback_url(site), {"jwt": jwt_factory(site, key=key)}).status_code == 302
        )


def test_jit_creates_an_unknown_agent_with_the_default_role(
    client: Client, site: Site, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, jit_enabled=True, jit_role=Agent.Role.SUPERVISOR)
    site.jit_domains = "shop.example"
    site.save()
    token = jwt_factory(site, email="New.Person@shop.example", name="New Person")

    assert client.get(callback_url(site), {"jwt": token}).status_code == 302

    agent = Agent.objects.get(site=site, email__iexact="new.person@shop.example")
    assert (agent.role, agent.name) == (Agent.Role.SUPERVISOR, "New Person")
    assert session_binding(client)["principal"] == agent.pk


def test_mfa_requirement_accepts_listed_amr(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, mfa_required=True, mfa_methods="otp hwk")
    response = client.get(callback_url(site), {"jwt": jwt_factory(site, amr=["pwd", "otp"])})
    assert response.status_code == 302


def test_login_start_redirects_to_the_sites_login_url_with_return_to(
    client: Client, site: Site, jwt_configure: Any
) -> None:
    jwt_configure(site)

    response = client.get(f"/sso/{site.site_id}/agent/login/", {"next": "/console/?tab=2"})

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "login.shop.example", "/sso")
    query = parse_qs(target.query)
    assert query["brand"] == ["1"]
    callback = urlsplit(query["return_to"][0])
    assert callback.path == callback_url(site)
    assert callback.netloc == "testserver"
    assert parse_qs(callback.query) == {"return_to": ["/console/?tab=2"]}


def test_login_start_ignores_a_disabled_configuration(
    client: Client, site: Site, jwt_configure: Any
) -> None:
    jwt_configure(site, enabled=False)
    response = client.get(f"/sso/{site.site_id}/agent/login/")
    assert reason_on_page(response) == RefusalReason.NOT_CONFIGURED


def test_return_to_carried_through_the_login_is_followed(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site)
    start = client.get(f"/sso/{site.site_id}/agent/login/", {"next": "https://shop.example/x"})
    callback = parse_qs(urlsplit(start["Location"]).query)["return_to"][0]
    # The customer's system posts the token to the callback URL it was given.
    response = client.post(callback, {"jwt": jwt_factory(site)})
    assert response["Location"] == "https://shop.example/x"


def test_logout_goes_to_the_remote_logout_url(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, logout_url="https://login.shop.example/logout")
    client.get(callback_url(site), {"jwt": jwt_factory(site)})

    response = client.post("/agent/logout/")

    assert response["Location"] == "https://login.shop.example/logout"
    assert session_binding(client) is None


def test_logout_without_remote_url_returns_to_the_sign_in_page(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site)
    client.get(callback_url(site), {"jwt": jwt_factory(site)})
    assert client.post("/agent/logout/")["Location"] == "/agent/login/"


def _statements_of_a_sign_in(client: Client, site: Site, token: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(callback_url(site), {"jwt": token})
    assert response.status_code == 302, response.content[:300]
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_a_sign_in_costs_few_queries(
    transactional_db: None,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
) -> None:
    """Issue 19: the floor's writes and one read, the site's facts from its record.

    Committed data (transactional_db), as in production, where BEGIN and
    COMMIT are logged too: what a transaction changed itself is never
    cached (see tenants.site_record).
    """
    jwt_configure(site)
    # First sign-in of the site in this process: the site (its primary key
    # by public ID, then its row),
    # the JWT settings, the access policy, the mapping rules and whether
    # groups map are read once each, besides the statements below (one
    # more when this process last saw site ID 10001 as a site now gone).
    cold = _statements_of_a_sign_in(Client(), site, jwt_factory(site))
    assert len(cold) <= 16, "\n".join(q[:90] for q in cold)
    # Then: one transaction for the sign-in (the jti spent, the active agent
    # by its identity key with its last sign-in set in one UPDATE ...
    # RETURNING, the audit row) and the session in one statement of its
    # own; the site's record costs one Redis GET and no query.
    warm = _statements_of_a_sign_in(Client(), site, jwt_factory(site))
    expected = [
        "BEGIN",
        'INSERT INTO "tenants_usedtoken"',
        'UPDATE "tenants_agent" SET "last_sign_in_at"',
        'INSERT INTO "tenants_loginevent"',
        "COMMIT",
        'INSERT INTO "django_session"',
    ]
    assert len(warm) == len(expected), "\n".join(q[:90] for q in warm)
    for sql, start in zip(warm, expected, strict=True):
        assert sql.startswith(start), (sql, start)
    # The unique index's row, no join to the site; an inactive agent is not touched.
    assert "ORDER BY" not in warm[2]
    assert '"is_active"' in warm[2]


def test_a_token_refused_after_its_checks_stays_spent(
    client: Client, site: Site, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    """RFC 7519 4.1.7 / RFC 8725 3.1: jti single use. The jti is written in
    the sign-in's transaction, which a refusal rolls back: it is spent anyway.
    """
    jwt_configure(site)
    token = jwt_factory(site)
    response = client.get(callback_url(site), {"jwt": token})
    assert reason_on_page(response) == RefusalReason.UNKNOWN_AGENT

    Agent.objects.create(site=site, email=f"alice@{site.site_id}.example")
    response = client.get(callback_url(site), {"jwt": token})

    assert reason_on_page(response) == RefusalReason.REPLAY
    assert session_binding(client) is None


def test_nul_characters_in_claims_never_reach_the_database(
    client: Client, site: Site, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, jit_enabled=True)
    site.jit_domains = "shop.example"
    site.save()
    token = jwt_factory(site, email="nul@shop.example", name="Eve\x00 Null")
    assert client.get(callback_url(site), {"jwt": token}).status_code == 302
    assert Agent.objects.get(email="nul@shop.example").name == "Eve Null"
