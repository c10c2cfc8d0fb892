"""Agents over the API: list, create, update, deactivate; tenancy; audit."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.models import ApiChange
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.api.conftest import last_change, results
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_list_shows_own_site_agents_only(api: APIClient, agent: Agent, other_agent: Agent) -> None:
    emails = [a["email"] for a in results(api.get("/api/v1/agents/"))]
    assert emails == [agent.email]


def test_other_sites_agent_is_404_like_a_missing_one(api: APIClient, other_agent: Agent) -> None:
    theirs = api.get(f"/api/v1/agents/{other_agent.pk}/")
    missing = api.get("/api/v1/agents/999999999/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert api.patch(f"/api/v1/agents/{other_agent.pk}/", {"name": "x"}).status_code == 404
    assert api.post(f"/api/v1/agents/{other_agent.pk}/deactivate/").status_code == 404
    other_agent.refresh_from_db()
    assert other_agent.is_active
    assert other_agent.name != "x"


def test_create_agent_records_the_change(api: APIClient, site: Site) -> None:
    response = api.post(
        "/api/v1/agents/",
        {"email": "new@a.example", "name": "New", "role": "supervisor", "department": "vip"},
        format="json",
    )
    assert response.status_code == 201, response.content
    agent = Agent.objects.get(site=site, email="new@a.example")
    assert (agent.role, agent.department) == ("supervisor", "vip")
    change = last_change()
    token = api.token  # type: ignore[attr-defined]
    assert (change.site, change.token, change.action) == (site, token, "create")
    assert (change.object_type, change.object_id) == ("tenants.agent", str(agent.pk))
    assert "email" in change.fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "ALICE@a.example"}, "email"),  # taken, whatever the case
        ({"email": "x@a.example", "role": "emperor"}, "role"),
        ({}, "email"),
    ],
)
def test_create_agent_validation_names_the_field(
    api: APIClient, agent: Agent, body: dict[str, str], field: str
) -> None:
    before = Agent.objects.count()
    response = api.post("/api/v1/agents/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Agent.objects.count() == before
    assert not ApiChange.objects.exists()


def test_same_email_may_be_an_agent_of_another_site(api: APIClient, other_agent: Agent) -> None:
    response = api.post("/api/v1/agents/", {"email": other_agent.email}, format="json")
    assert response.status_code == 201


def test_update_agent_records_changed_fields_only(api: APIClient, agent: Agent) -> None:
    response = api.patch(
        f"/api/v1/agents/{agent.pk}/", {"name": "Alice B", "role": agent.role}, format="json"
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.name == "Alice B"
    assert last_change().fields == ["name"]


def test_email_is_fixed_once_created(api: APIClient, agent: Agent) -> None:
    api.patch(f"/api/v1/agents/{agent.pk}/", {"email": "other@a.example"}, format="json")
    agent.refresh_from_db()
    assert agent.email == "alice@a.example"


def test_agents_are_not_deleted_through_the_api(api: APIClient, agent: Agent) -> None:
    assert api.delete(f"/api/v1/agents/{agent.pk}/").status_code == 405
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_deactivate_ends_the_agents_session(
    api: APIClient, agent: Agent, signed_in_client, client
) -> None:
    console = signed_in_client(agent)
    assert console.get("/console/").status_code == 200
    response = api.post(f"/api/v1/agents/{agent.pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    after = console.get("/console/")  # refused once with the reason (issue 13)
    assert after.status_code == RefusalReason.AGENT_INACTIVE.status
    assert RefusalReason.AGENT_INACTIVE.value in after.content.decode()
    change = last_change()
    assert (change.action, change.fields) == ("deactivate", ["is_active"])


def test_filters_and_ordering(api: APIClient, site: Site) -> None:
    AgentFactory.create(site=site, email="b@a.example", role="admin")
    AgentFactory.create(site=site, email="a@a.example", role="agent", is_active=False)
    assert [a["email"] for a in results(api.get("/api/v1/agents/?role=admin"))] == ["b@a.example"]
    assert [a["email"] for a in results(api.get("/api/v1/agents/?is_active=false"))] == [
        "a@a.example"
    ]
    ordered = results(api.get("/api/v1/agents/?ordering=email"))
    assert [a["email"] for a in ordered] == ["a@a.example", "b@a.example"]
    bad = api.get("/api/v1/agents/?created_after=yesterday")
    assert bad.status_code == 400
    assert "created_after" in bad.json()


def test_cursor_pagination_walks_every_agent_once(api: APIClient, site: Site) -> None:
    for n in range(7):
        AgentFactory.create(site=site, email=f"p{n}@a.example")
    seen: list[str] = []
    url: str | None = "/api/v1/agents/?page_size=3"
    while url:
        body = api.get(url).json()
        seen += [a["email"] for a in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(f"p{n}@a.example" for n in range(7))


def test_admin_deactivate_action_uses_the_same_service(
    admin_client, agent: Agent, signed_in_client
) -> None:
    console = signed_in_client(agent)
    admin_client.post(
        "/admin/tenants/agent/", {"action": "deactivate", "_selected_action": [agent.pk]}
    )
    agent.refresh_from_db()
    assert not agent.is_active
    assert console.get("/console/").status_code == RefusalReason.AGENT_INACTIVE.status
