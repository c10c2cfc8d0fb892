"""A SCIM client (requests) provisions agents on the live server."""

from __future__ import annotations

from typing import Any

import pytest

from api.models import ApiChange
from tenants.models import Agent, Site
from tests.scim.conftest import ScimSession, assert_scim_error, new_user, scim_token

pytestmark = pytest.mark.django_db(transaction=True)


def create(scim: ScimSession, **extra: Any) -> dict[str, Any]:
    response = scim.post("/Users", json=new_user(**extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_user_makes_an_agent_of_the_site_from_scim(scim: ScimSession, site: Site) -> None:
    body = create(scim)
    agent = Agent.objects.get(pk=body["id"])
    assert (agent.site, agent.email, agent.name) == (site, "carol@a.example", "Carol Danvers")
    assert agent.source == Agent.Source.SCIM
    assert agent.last_synced_at is not None
    assert body["userName"] == "carol@a.example"
    assert body["externalId"] == "00u-carol"
    assert body["active"] is True
    assert body["meta"]["location"].endswith(f"/scim/v2/{site.site_id}/Users/{agent.pk}")
    change = ApiChange.objects.get(site=site, object_id=str(agent.pk))
    assert change.action == ApiChange.Action.CREATE
    assert change.object_type == "tenants.agent"


def test_read_user_has_an_etag_and_honours_if_none_match(scim: ScimSession) -> None:
    user = create(scim)
    response = scim.get(f"/Users/{user['id']}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag == response.json()["meta"]["version"]
    assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    "query",
    [
        'userName eq "carol@a.example"',
        'userName eq "CAROL@A.EXAMPLE"',
        'emails[type eq "work"].value eq "carol@a.example"',
        'externalId eq "00u-carol"',
        'userName sw "carol" and active eq true',
    ],
)
def test_filter_finds_the_user(scim: ScimSession, query: str) -> None:
    create(scim)
    create(scim, user_name="dave@a.example")
    body = scim.get("/Users", params={"filter": query}).json()
    assert body["totalResults"] == 1
    assert body["Resources"][0]["userName"] == "carol@a.example"


def test_filter_that_matches_nothing_is_an_empty_list(scim: ScimSession) -> None:
    create(scim)
    body = scim.get("/Users", params={"filter": 'userName eq "nobody@a.example"'}).json()
    assert body["totalResults"] == 0
    assert "Resources" not in body or body["Resources"] == []


def test_pagination_pages_through_the_users(scim: ScimSession) -> None:
    for n in range(5):
        create(scim, user_name=f"user{n}@a.example")
    page = scim.get("/Users", params={"startIndex": 3, "count": 2}).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 3, 2)
    assert [u["userName"] for u in page["Resources"]] == ["user2@a.example", "user3@a.example"]


def test_patch_deactivates_the_agent_and_logs_it(scim: ScimSession, site: Site) -> None:
    user = create(scim)
    patch: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    response = scim.patch(f"/Users/{user['id']}", json=patch)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert not Agent.objects.get(pk=user["id"]).is_active
    change = ApiChange.objects.filter(site=site, object_id=user["id"]).first()
    assert change is not None
    assert change.action == ApiChange.Action.DEACTIVATE
    assert "is_active" in change.fields


def test_patch_with_a_path_changes_the_name(scim: ScimSession) -> None:
    user = create(scim)
    patch: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Carol D."}],
    }
    assert scim.patch(f"/Users/{user['id']}", json=patch).status_code == 200
    assert Agent.objects.get(pk=user["id"]).name == "Carol D."


def test_put_replaces_and_a_stale_if_match_is_refused(scim: ScimSession) -> None:
    user = create(scim)
    etag = scim.get(f"/Users/{user['id']}").headers["ETag"]
    replaced = new_user(displayName="Carol Replaced")
    assert scim.put(f"/Users/{user['id']}", json=replaced, headers={"If-Match": etag}).ok
    assert Agent.objects.get(pk=user["id"]).name == "Carol Replaced"
    stale = scim.put(f"/Users/{user['id']}", json=new_user(), headers={"If-Match": etag})
    assert_scim_error(stale, 412)
    assert Agent.objects.get(pk=user["id"]).name == "Carol Replaced"


def test_delete_removes_the_agent(scim: ScimSession, site: Site) -> None:
    user = create(scim)
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    assert not Agent.objects.filter(pk=user["id"]).exists()
    assert_scim_error(scim.get(f"/Users/{user['id']}"), 404)
    assert ApiChange.objects.filter(
        site=site, object_id=user["id"], action=ApiChange.Action.DELETE
    ).exists()


def test_duplicate_user_is_a_uniqueness_error(scim: ScimSession) -> None:
    create(scim)
    assert_scim_error(scim.post("/Users", json=new_user()), 409, "uniqueness")
    assert Agent.objects.count() == 1


def test_token_of_site_a_is_refused_on_site_b(
    scim_as: Any, site: Site, other_site: Site, agent: Agent
) -> None:
    client_a_on_b = scim_as(other_site.site_id, scim_token(site))
    assert_scim_error(client_a_on_b.get("/Users"), 403)
    assert_scim_error(client_a_on_b.post("/Users", json=new_user("eve@b.example")), 403)
    assert not Agent.objects.filter(site=other_site).exists()
    assert not ApiChange.objects.exists()


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(("read", "write"), 403), ((), 401)],
    ids=["api-token-without-scim-scope", "no-token"],
)
def test_token_without_the_scim_scope_is_refused(
    scim_as: Any, site: Site, scopes: tuple[str, ...], status: int
) -> None:
    client = scim_as(site.site_id, scim_token(site, scopes) if scopes else None)
    response = client.post("/Users", json=new_user())
    assert_scim_error(response, status)
    assert not Agent.objects.exists()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_path_under_the_root_is_a_scim_404(scim: ScimSession) -> None:
    assert_scim_error(scim.get("/Nope"), 404)
    assert_scim_error(scim.get("/Users/not-a-number"), 404)
