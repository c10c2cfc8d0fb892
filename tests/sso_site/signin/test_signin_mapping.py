"""Sign-ins through sign_in() on PostgreSQL, with the site's field mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Visitor
from mapping.models import FieldMapping
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason, SignInRefused
from sso_site.signin.session import principal_from_session, sign_in
from tenants.models import Agent, Audience, LoginEvent, Protocol, Site
from tests.conftest import session_request
from tests.mapping.shapes import identity, jwt_claims, mapping, saml_ava, variable

VISITOR_KEY = session_key_for(Audience.VISITOR)
AGENT_KEY = session_key_for(Audience.AGENT)


@pytest.fixture
def visitor_jwt_site(site: Site) -> Site:
    """Site A with defaults (name, email, external_id) plus custom variables."""
    tier = variable(site, "tier", "choice", choices="VIP\nBasic")
    since = variable(site, "member_since", "date")
    credit = variable(site, "credit", "number")
    news = variable(site, "newsletter", "boolean")
    roles = variable(site, "roles")
    mapping(site, source="phone", target="phone")
    mapping(site, source="account.tier", variable=tier, required=True, lower=True)
    mapping(site, source="account.since", variable=since)
    mapping(site, source="account.credit", variable=credit, default="0")
    mapping(site, source="newsletter", variable=news)
    mapping(site, source="roles", variable=roles, multi_value="all")
    return site


def vip_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "cust-42",
        "external_id": "cust-42",
        "name": " Ann Lee ",
        "email": "Ann@Shop.Example",
        "phone": "+44 20 7946 0000",
        "account": {"tier": "vip", "since": "2021-05-01", "credit": 1200.5},
        "newsletter": "yes",
        "roles": ["buyer", "reviewer"],
    }
    claims.update(overrides)
    return jwt_claims(**claims)


def test_new_sites_get_default_mappings(site: Site) -> None:
    rows = set(FieldMapping.objects.for_site(site).values_list("audience", "protocol", "target"))
    assert {
        ("visitor", "jwt", "name"),
        ("visitor", "jwt", "email"),
        ("visitor", "jwt", "external_id"),
        ("visitor", "saml", "email"),
        ("agent", "jwt", "name"),
    } <= rows
    assert not FieldMapping.objects.filter(required=True).exists()


def test_jwt_visitor_sign_in_creates_the_visitor_record(visitor_jwt_site: Site) -> None:
    site = visitor_jwt_site
    request = session_request()
    before = timezone.now()
    ident = identity(
        site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="cust-42",
        claims=vip_claims(),
    )

    result = sign_in(request, identity=ident, return_to="https://shop.example/help")

    visitor = Visitor.objects.get()
    assert result.principal == visitor
    assert result.redirect_to == "https://shop.example/help"
    assert (visitor.site, visitor.external_id) == (site, "cust-42")
    assert (visitor.name, visitor.email, visitor.phone) == (
        "Ann Lee",
        "ann@shop.example",
        "+44 20 7946 0000",
    )
    assert visitor.custom == {
        "tier": "VIP",
        "member_since": "2021-05-01",
        "credit": 1200.5,
        "newsletter": True,
        "roles": ["buyer", "reviewer"],
    }
    assert visitor.last_protocol == "jwt"
    assert visitor.last_sign_in_at is not None
    assert visitor.last_sign_in_at >= before
    assert request.session[VISITOR_KEY]["principal"] == visitor.pk
    assert AGENT_KEY not in request.session
    assert principal_from_session(request, audience=Audience.VISITOR) == visitor
    event = LoginEvent.objects.get()
    assert (event.outcome, event.audience, event.subject) == ("success", "visitor", "cust-42")


def test_the_visitor_is_refreshed_at_each_sign_in(visitor_jwt_site: Site) -> None:
    site = visitor_jwt_site
    first = identity(
        site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="cust-42",
        claims=vip_claims(),
    )
    sign_in(session_request(), identity=first)
    claims = vip_claims(name="Ann Lee-Smith", account={"tier": "Basic"})
    del claims["phone"], claims["newsletter"]
    again = identity(
        site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="cust-42",
        claims=claims,
    )
    Visitor.objects.update(last_sign_in_at=timezone.now() - dt.timedelta(days=1))

    sign_in(session_request(), identity=again)

    visitor = Visitor.objects.get()
    assert visitor.name == "Ann Lee-Smith"
    assert visitor.custom["tier"] == "Basic"
    # Not sent this time: the stored values stay; the default fills credit.
    assert visitor.phone == "+44 20 7946 0000"
    assert visitor.custom["newsletter"] is True
    assert visitor.custom["credit"] == 0
    assert Visitor.objects.count() == 1
    assert visitor.last_sign_in_at is not None
    assert visitor.last_sign_in_at > timezone.now() - dt.timedelta(minutes=1)


def test_saml_visitor_sign_in_maps_pysaml2_attributes(site: Site) -> None:
    groups = variable(site, "groups")
    tier = variable(site, "tier", "choice", choices="VIP\nBasic")
    common = {"audience": Audience.VISITOR, "protocol": Protocol.SAML}
    mapping(site, source="eduPersonAffiliation", variable=groups, multi_value="all", **common)
    mapping(site, source="urn:example:tier", variable=tier, required=True, **common)
    mapping(site, source="urn:oid:2.5.4.20", target="phone", **common)  # telephoneNumber
    mapping(site, source="employeeNumber", target="external_id", **common)
    ava = saml_ava(
        {
            "mail": ["Ann@Shop.Example"],
            "displayName": ["Ann Lee"],
            "eduPersonAffiliation": ["member", "staff"],
            "telephoneNumber": ["+1 555 0100"],
            "employeeNumber": ["E-1001"],
        },
        unknown={"urn:example:tier": ["VIP"]},
    )
    ident = identity(
        site,
        audience=Audience.VISITOR,
        protocol=Protocol.SAML,
        subject="_transient-name-id-1234",
        claims=ava,
    )

    result = sign_in(session_request(), identity=ident)

    visitor = Visitor.objects.get()
    assert result.principal == visitor
    # A mapped external ID wins over a (transient) NameID.
    assert visitor.external_id == "E-1001"
    assert (visitor.name, visitor.email, visitor.phone) == (
        "Ann Lee",
        "ann@shop.example",
        "+1 555 0100",
    )
    assert visitor.custom == {"groups": ["member", "staff"], "tier": "VIP"}
    assert visitor.last_protocol == "saml"


@pytest.mark.parametrize("protocol", [Protocol.JWT, Protocol.SAML])
def test_agent_fields_are_refreshed_at_each_sign_in(agent: Agent, protocol: Protocol) -> None:
    site = agent.site
    site.sync_name = site.sync_role = True
    site.save()
    common = {"audience": Audience.AGENT, "protocol": protocol}
    if protocol == Protocol.JWT:
        mapping(site, source="org.department", target="department", **common)
        mapping(site, source="app_role", target="role", lower=True, **common)

        def claims(name: str, dept: str, role: str) -> Any:
            return jwt_claims(email=agent.email, name=name, org={"department": dept}, app_role=role)
    else:
        mapping(site, source="ou", target="department", **common)
        mapping(site, source="urn:example:role", target="role", lower=True, **common)

        def claims(name: str, dept: str, role: str) -> Any:
            return saml_ava(
                {"mail": [agent.email], "displayName": [name], "ou": [dept, "Other"]},
                unknown={"urn:example:role": [role]},
            )

    for name, dept, role in [("Alice A.", "Sales", "Supervisor"), ("Alice B.", "VIP", "agent")]:
        ident = identity(
            site,
            audience=Audience.AGENT,
            protocol=protocol,
            subject=agent.email,
            claims=claims(name, dept, role),
        )
        result = sign_in(session_request(), identity=ident)
        agent.refresh_from_db()
        assert result.principal == agent
        assert (agent.name, agent.department, agent.role) == (name, dept, role.lower())


def test_by_default_a_sign_in_refreshes_the_department_only(agent: Agent) -> None:
    """Issue 10: the site chooses which claims may update an existing agent."""
    site = agent.site
    common = {"audience": Audience.AGENT, "protocol": Protocol.JWT}
    mapping(site, source="dept", target="department", **common)
    mapping(site, source="app_role", target="role", lower=True, **common)
    before = (agent.name, agent.role)
    claims = jwt_claims(email=agent.email, name="Mallory", dept="VIP", app_role="admin")
    ident = identity(
        site, audience=Audience.AGENT, protocol=Protocol.JWT, subject=agent.email, claims=claims
    )
    sign_in(session_request(), identity=ident)
    agent.refresh_from_db()
    assert (agent.name, agent.role) == before
    assert agent.department == "VIP"


def test_without_mappings_agent_sign_in_is_unchanged(agent: Agent) -> None:
    FieldMapping.objects.all().delete()
    before = Agent.objects.values("name", "department", "role").get(pk=agent.pk)
    ident = identity(
        agent.site,
        audience=Audience.AGENT,
        protocol=Protocol.JWT,
        subject=agent.email,
        claims=jwt_claims(email=agent.email, name="Someone Else", department="X"),
    )
    sign_in(session_request(), identity=ident)
    assert Agent.objects.values("name", "department", "role").get(pk=agent.pk) == before


def test_an_unmapped_role_keeps_the_role_and_refuses_invalid_ones(agent: Agent) -> None:
    mapping(agent.site, audience=Audience.AGENT, source="app_role", target="role")
    ident = identity(
        agent.site,
        audience=Audience.AGENT,
        protocol=Protocol.JWT,
        subject=agent.email,
        claims=jwt_claims(email=agent.email, app_role="superuser"),
    )
    with pytest.raises(SignInRefused) as refused:
        sign_in(session_request(), identity=ident)
    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert refused.value.detail["problems"] == [
        {"source": "app_role", "target": "role", "code": "not_a_choice"}
    ]
    agent.refresh_from_db()
    assert agent.role == "agent"
