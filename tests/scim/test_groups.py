"""IdP groups grant roles and departments: from SCIM groups and at sign-in;
leaving a group takes back what it granted.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.models import ApiChange
from scim.models import GroupRole
from sso_site.signin.session import sign_in
from tenants.models import Agent, Site
from tests.conftest import identity_for, session_request
from tests.scim.conftest import ScimSession, new_user

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def mapping(site: Site) -> None:
    GroupRole.objects.create(site=site, group_name="Support Leads", role=Agent.Role.SUPERVISOR)
    GroupRole.objects.create(site=site, group_name="Billing", department="billing")


def members_patch(op: str, user_id: str) -> dict[str, Any]:
    if op == "add":
        operation = {"op": "add", "path": "members", "value": [{"value": user_id}]}
    else:
        operation = {"op": "remove", "path": f'members[value eq "{user_id}"]'}
    return {"schemas": [PATCH], "Operations": [operation]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mapping")
def test_group_membership_changes_the_role_and_back(scim: ScimSession, site: Site) -> None:
    user = scim.post("/Users", json=new_user()).json()
    group = scim.post("/Groups", json={"schemas": [GROUP], "displayName": "Support Leads"})
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    agent = Agent.objects.get(pk=user["id"])
    assert agent.role == Agent.Role.AGENT

    assert scim.patch(f"/Groups/{group_id}", json=members_patch("add", user["id"])).ok
    agent.refresh_from_db()
    assert agent.role == Agent.Role.SUPERVISOR
    assert scim.get(f"/Users/{user['id']}").json()["groups"][0]["display"] == "Support Leads"

    assert scim.patch(f"/Groups/{group_id}", json=members_patch("remove", user["id"])).ok
    agent.refresh_from_db()
    assert agent.role == Agent.Role.AGENT
    changes = ApiChange.objects.filter(site=site, object_type="scim.scimgroup")
    assert changes.count() == 3  # created, member added, member removed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mapping")
def test_deleting_a_group_takes_back_its_department(scim: ScimSession) -> None:
    user = scim.post("/Users", json=new_user()).json()
    group = scim.post(
        "/Groups",
        json={"schemas": [GROUP], "displayName": "billing", "members": [{"value": user["id"]}]},
    ).json()
    assert Agent.objects.get(pk=user["id"]).department == "billing"
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert Agent.objects.get(pk=user["id"]).department == ""


@pytest.mark.django_db
@pytest.mark.usefixtures("mapping")
@pytest.mark.parametrize(
    "claim", ["groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"]
)
def test_sign_in_applies_the_groups_it_carries_and_takes_them_back(
    agent: Agent, claim: str
) -> None:
    sign_in(session_request(), identity=identity_for(agent, claims={claim: ["Support Leads"]}))
    agent.refresh_from_db()
    assert agent.role == Agent.Role.SUPERVISOR
    assert agent.last_synced_at is not None

    sign_in(session_request(), identity=identity_for(agent, claims={claim: []}))
    agent.refresh_from_db()
    assert agent.role == Agent.Role.AGENT


@pytest.mark.django_db
@pytest.mark.usefixtures("mapping")
def test_leaving_a_group_keeps_a_role_an_operator_set_since(agent: Agent) -> None:
    sign_in(session_request(), identity=identity_for(agent, claims={"groups": ["Billing"]}))
    agent.refresh_from_db()
    assert agent.department == "billing"
    Agent.objects.filter(pk=agent.pk).update(department="vip")
    sign_in(session_request(), identity=identity_for(agent, claims={"groups": []}))
    agent.refresh_from_db()
    assert agent.department == "vip"


@pytest.mark.django_db
def test_site_without_group_mapping_is_left_alone(agent: Agent) -> None:
    Agent.objects.filter(pk=agent.pk).update(role=Agent.Role.ADMIN)
    sign_in(session_request(), identity=identity_for(agent, claims={"groups": ["x"]}))
    agent.refresh_from_db()
    assert agent.role == Agent.Role.ADMIN
    assert agent.last_synced_at is None
