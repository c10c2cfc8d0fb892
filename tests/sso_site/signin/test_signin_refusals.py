"""A failed mapping refuses the sign-in: no session, a precise audit event;
and one site's mappings never apply to another site.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.template.response import TemplateResponse
from django.test.utils import CaptureQueriesContext

from campaigns.models import Visitor
from mapping.models import FieldMapping
from mapping.services import rules_for_site
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Agent, Audience, LoginEvent, Protocol, Site
from tests.conftest import identity_for, session_request
from tests.mapping.shapes import identity, jwt_claims, mapping, variable

SECRET_VALUE = "Pr1vate-Value-777"


@pytest.fixture
def strict_site(site: Site) -> Site:
    tier = variable(site, "tier", "choice", choices="VIP\nBasic")
    age = variable(site, "age", "number")
    born = variable(site, "born", "date")
    mapping(site, source="account.tier", variable=tier, required=True)
    mapping(site, source="age", variable=age)
    mapping(site, source="born", variable=born)
    FieldMapping.objects.filter(site=site, target="email", audience="visitor").update(required=True)
    return site


# (forgery, claims changes, expected problems as (source, target, code))
FORGERIES: list[tuple[str, dict[str, Any], list[tuple[str, str, str]]]] = [
    ("required missing", {"account": {}}, [("account.tier", "custom.tier", "missing")]),
    (
        "choice not allowed",
        {"account": {"tier": SECRET_VALUE}},
        [("account.tier", "custom.tier", "not_a_choice")],
    ),
    ("number of the wrong type", {"age": SECRET_VALUE}, [("age", "custom.age", "wrong_type")]),
    ("date of the wrong type", {"born": SECRET_VALUE}, [("born", "custom.born", "wrong_type")]),
    ("email not an email", {"email": SECRET_VALUE}, [("email", "email", "wrong_type")]),
    (
        "several at once",
        {"email": None, "account": {"tier": ["x"]}, "age": {"nested": 1}},
        [
            ("email", "email", "missing"),
            ("account.tier", "custom.tier", "not_a_choice"),
            ("age", "custom.age", "wrong_type"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("forgery", "changes", "expected"), FORGERIES, ids=[f[0] for f in FORGERIES]
)
def test_a_failed_mapping_refuses_with_no_session_and_a_precise_audit_event(
    strict_site: Site, forgery: str, changes: dict[str, Any], expected: list[tuple[str, ...]]
) -> None:
    claims = {"external_id": "v-1", "email": "v@shop.example", "account": {"tier": "VIP"}}
    claims.update(changes)
    ident = identity(
        strict_site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="v-1",
        claims=jwt_claims(**claims),
    )
    request = session_request()

    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=ident, return_to="https://shop.example/")
    response = render_refusal(request, refused.value)

    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert isinstance(response, TemplateResponse)
    assert response.status_code == 403
    assert 'id="reason-code">mapping_failed<' in response.rendered_content
    assert SECRET_VALUE not in response.rendered_content
    assert request.session.session_key is None
    assert not request.session.modified
    assert Session.objects.count() == 0
    assert not Visitor.objects.exists()
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason, event.site, event.audience, event.protocol) == (
        "refused",
        "mapping_failed",
        strict_site,
        "visitor",
        "jwt",
    )
    assert event.subject == "v-1"
    assert event.detail["fields"] == [target for _, target, _ in expected]
    assert event.detail["reference"] == ident.reference
    problems = [(p["source"], p["target"], p["code"]) for p in event.detail["problems"]]
    assert problems == expected
    assert SECRET_VALUE not in str(event.detail)


def test_a_failed_agent_mapping_leaves_the_signed_in_session_and_agent_alone(
    agent: Agent,
) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session.save()
    key, data = request.session.session_key, dict(request.session.items())
    mapping(agent.site, audience=Audience.AGENT, source="dept", target="department", required=True)
    FieldMapping.objects.filter(site=agent.site, audience="agent", target="name").update(
        required=True
    )
    before = Agent.objects.values().get(pk=agent.pk)

    with pytest.raises(SignInRefused) as refused:
        sign_in(
            request,
            identity=identity_for(agent, claims=jwt_claims(email=agent.email, name="New")),
        )

    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert refused.value.detail["fields"] == ["department"]
    assert request.session.session_key == key
    assert dict(request.session.items()) == data
    assert Agent.objects.values().get(pk=agent.pk) == before


def test_a_failed_mapping_creates_no_just_in_time_agent(site: Site) -> None:
    site.jit_domains = "a.example"  # just-in-time creation allowed for this domain
    site.save(update_fields=["jit_domains"])
    mapping(site, audience=Audience.AGENT, source="dept", target="department", required=True)
    ident = identity(
        site,
        audience=Audience.AGENT,
        protocol=Protocol.JWT,
        subject="new@a.example",
        claims=jwt_claims(email="new@a.example"),
    )
    ident = type(ident)(**{**_as_dict(ident), "jit_role": "agent"})
    with pytest.raises(SignInRefused) as refused:
        sign_in(session_request(), identity=ident)
    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert not Agent.objects.filter(email="new@a.example").exists()


def test_mappings_of_site_a_never_apply_to_site_b(site: Site, other_site: Site) -> None:
    tier = variable(site, "tier", "choice", choices="VIP")
    mapping(site, source="tier", variable=tier, required=True)
    FieldMapping.objects.filter(site=site, audience="visitor", target="name").update(
        source="nickname"
    )
    # Both sites' rules are in the cache, as in production.
    assert rules_for_site(site=site)
    assert rules_for_site(site=other_site)
    claims = jwt_claims(external_id="v-9", name="Real Name", nickname="Nick", tier="VIP")

    def visitor_of(target: Site) -> Visitor:
        ident = identity(
            target, audience=Audience.VISITOR, protocol=Protocol.JWT, subject="v-9", claims=claims
        )
        principal = sign_in(session_request(), identity=ident).principal
        assert isinstance(principal, Visitor)
        return principal

    on_b = visitor_of(other_site)
    assert (on_b.site, on_b.name, on_b.custom) == (other_site, "Real Name", {})
    on_a = visitor_of(site)
    assert (on_a.site, on_a.name, on_a.custom) == (site, "Nick", {"tier": "VIP"})
    assert on_a.pk != on_b.pk
    # Site A's required mapping does not refuse a sign-in at site B.
    claims = jwt_claims(external_id="v-10")
    ident = identity(
        other_site, audience=Audience.VISITOR, protocol=Protocol.JWT, subject="v-10", claims=claims
    )
    sign_in(session_request(), identity=ident)


def test_a_variable_of_another_site_cannot_be_mapped(site: Site, other_site: Site) -> None:
    foreign = variable(other_site, "tier")
    row = FieldMapping(
        site=site, audience="visitor", protocol="jwt", source="t", target="custom", variable=foreign
    )
    with pytest.raises(Exception, match="another site"):
        row.full_clean()


def test_an_edited_mapping_applies_at_the_next_sign_in(site: Site) -> None:
    def sign(**claims: Any) -> Visitor:
        ident = identity(
            site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            subject="v-1",
            claims=jwt_claims(**claims),
        )
        principal = sign_in(session_request(), identity=ident).principal
        assert isinstance(principal, Visitor)
        return principal

    assert sign(name="Ann", display="Ann D.").name == "Ann"
    row = FieldMapping.objects.get(site=site, audience="visitor", protocol="jwt", target="name")
    row.source = "display"
    row.save()
    assert sign(name="Ann", display="Ann D.").name == "Ann D."
    row.delete()
    assert sign(name="Other", display="Other D.").name == "Ann D."


def test_a_sign_in_with_cached_rules_reads_no_mapping_from_the_database(
    site: Site,
) -> None:
    rules_for_site(site=site)  # warm the cache

    def count(subject: str) -> int:
        ident = identity(
            site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            subject=subject,
            claims=jwt_claims(external_id=subject, name="N", email="n@x.example"),
        )
        with CaptureQueriesContext(connection) as queries:
            sign_in(session_request(), identity=ident)
        return sum(1 for query in queries.captured_queries if "SAVEPOINT" not in query["sql"])

    count("first")  # creates the visitor
    # Existing visitor: SELECT ... FOR UPDATE, UPDATE, audit INSERT; a new
    # session is only written when saved, and the rules come from the cache.
    assert count("first") == 3


def test_an_overlong_external_id_is_refused_not_truncated(site: Site) -> None:
    ident = identity(
        site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="x" * 256,
        claims=jwt_claims(),
    )
    with pytest.raises(SignInRefused) as refused:
        sign_in(session_request(), identity=ident)
    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert refused.value.detail["fields"] == ["external_id"]
    assert not Visitor.objects.exists()


def test_a_visitor_refusal_leaves_an_agent_session_alone(agent: Agent) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session.save()
    key, data = request.session.session_key, dict(request.session.items())
    mapping(agent.site, source="missing", target="phone", required=True)
    ident = identity(
        agent.site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        subject="v-1",
        claims=jwt_claims(),
    )
    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=ident)
    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    assert request.session.session_key == key
    assert dict(request.session.items()) == data
    assert session_key_for(Audience.VISITOR) not in request.session


def _as_dict(ident: Any) -> dict[str, Any]:
    return {name: getattr(ident, name) for name in ident.__slots__}


def test_a_variable_changing_type_changes_its_mappings(site: Site) -> None:
    level = variable(site, "level", "number")
    mapping(site, source="level", variable=level, required=True)
    claims = jwt_claims(external_id="v-1", level="gold")

    def attempt() -> Any:
        ident = identity(
            site, audience=Audience.VISITOR, protocol=Protocol.JWT, subject="v-1", claims=claims
        )
        return sign_in(session_request(), identity=ident).principal

    with pytest.raises(SignInRefused) as refused:
        attempt()
    assert refused.value.reason == RefusalReason.MAPPING_FAILED
    level.type = "text"
    level.save()
    assert attempt().custom == {"level": "gold"}
