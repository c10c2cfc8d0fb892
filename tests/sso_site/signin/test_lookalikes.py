"""A validly signed token for a look-alike of an agent's email never signs in
as that agent and never creates a second one (issue 10).

SECURITY.md, JWT: "Identities compared on a normalised key (Unicode NFKC +
case fold, IDNA domain), never by a database collation's idea of
case-insensitive". UTS #39 (confusables, mixed scripts).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tenants.services import agent_create
from tests.factories import AgentFactory
from tests.fixtures.jwt import JwtFactory, callback_url, reason_on_page, session_binding

EMAIL = "alice@a.example"
LOOKALIKES = [
    "al\u0131ce@a.example",  # dotless i: PostgreSQL's UPPER() makes it I
    "\u0430lice@a.example",  # Cyrillic a
    "\uff41lice@a.example",  # fullwidth a
    "ali\u0301ce@a.example",  # combining acute accent
    "alice@\u0430.example",  # Cyrillic domain letter
    "alice@\uff41.example",  # fullwidth domain letter
    "\u212alice@a.example",  # Kelvin sign (folds to k)
]


@pytest.fixture
def alice(site: Site) -> Agent:
    return AgentFactory.create(site=site, email=EMAIL)


@pytest.fixture
def jit_site(site: Site, jwt_configure: Any) -> Site:
    jwt_configure(site, jit_enabled=True)
    site.jit_domains = "a.example"
    site.save()
    return site


@pytest.mark.parametrize("email", LOOKALIKES)
def test_a_lookalike_never_signs_in_as_the_agent_nor_creates_one(
    client: Client, jit_site: Site, alice: Agent, jwt_factory: JwtFactory, email: str
) -> None:
    response = client.get(callback_url(jit_site), {"jwt": jwt_factory(jit_site, email=email)})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.IDENTITY_LOOKALIKE
    assert session_binding(client) is None
    assert list(Agent.objects.values_list("email", flat=True)) == [EMAIL]
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason) == ("refused", RefusalReason.IDENTITY_LOOKALIKE)
    assert event.subject == email


def test_the_dotless_i_lookalike_is_refused_with_its_own_code(
    client: Client, jit_site: Site, alice: Agent, jwt_factory: JwtFactory
) -> None:
    token = jwt_factory(jit_site, email="al\u0131ce@a.example")
    response = client.get(callback_url(jit_site), {"jwt": token})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.IDENTITY_LOOKALIKE
    event = LoginEvent.objects.get()
    assert event.detail["identity_problem"] == "not_allowed"
    assert event.subject == "al\u0131ce@a.example"


def test_case_differences_sign_in_as_the_agent_and_the_audit_names_both(
    client: Client, jit_site: Site, alice: Agent, jwt_factory: JwtFactory
) -> None:
    token = jwt_factory(jit_site, email="ALICE@A.Example")
    response = client.get(callback_url(jit_site), {"jwt": token})

    assert response.status_code == 302
    assert session_binding(client)["principal"] == alice.pk
    assert Agent.objects.count() == 1
    event = LoginEvent.objects.get()
    assert event.subject == "ALICE@A.Example"  # what came in
    assert (event.detail["principal"], event.detail["matched"]) == (alice.pk, EMAIL)


def test_jit_creates_no_agent_outside_the_sites_domains(
    client: Client, jit_site: Site, jwt_factory: JwtFactory
) -> None:
    token = jwt_factory(jit_site, email="stranger@evil.example")
    response = client.get(callback_url(jit_site), {"jwt": token})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.JIT_DOMAIN
    assert session_binding(client) is None
    assert not Agent.objects.exists()
    assert LoginEvent.objects.get().reason == RefusalReason.JIT_DOMAIN


def test_jit_uses_the_sites_verified_domains_when_it_lists_none(
    client: Client, site: Site, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site, jit_enabled=True)
    claim = site.domains.create(domain="a.example")
    token = jwt_factory(site, email="new@a.example")
    assert client.get(callback_url(site), {"jwt": token}).status_code == 403  # not verified

    claim.verified_by = "superuser"
    claim.verified_at = claim.created_at
    claim.save()
    token = jwt_factory(site, email="new@a.example")
    assert client.get(callback_url(site), {"jwt": token}).status_code == 302
    assert Agent.objects.get().email_key == "new@a.example"


def test_an_overlong_email_on_a_jit_site_is_refused_not_a_server_error(
    client: Client, jit_site: Site, jwt_factory: JwtFactory
) -> None:
    token = jwt_factory(jit_site, email="a" * 250 + "@a.example")
    response = client.get(callback_url(jit_site), {"jwt": token})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.JWT_NO_EMAIL
    assert not Agent.objects.exists()
    assert LoginEvent.objects.get().reason == RefusalReason.JWT_NO_EMAIL


@pytest.mark.parametrize("email", ["ALICE@a.example", "alice@A.EXAMPLE", *LOOKALIKES])
def test_no_second_agent_with_the_same_key_or_a_lookalike(
    site: Site, alice: Agent, email: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        agent_create(site=site, email=email)
    assert "email" in refused.value.message_dict
    assert Agent.objects.count() == 1


def test_the_same_email_on_another_site_is_another_agent(site: Site, other_site: Site) -> None:
    first = agent_create(site=site, email=EMAIL)
    second = agent_create(site=other_site, email="Alice@A.example")
    assert first.email_key == second.email_key == EMAIL


def test_a_sites_jit_domains_are_domains(site: Site) -> None:
    site.jit_domains = "a.example\n@b.example\n"
    site.full_clean()
    site.jit_domains = "a.example\n\u0430pple.example"
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    assert "jit_domains" in refused.value.message_dict
