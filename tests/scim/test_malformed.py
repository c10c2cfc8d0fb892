"""Malformed SCIM requests get SCIM error bodies, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from api.models import ApiChange
from tenants.models import Agent
from tests.scim.conftest import SCIM_TYPE, ScimSession, assert_scim_error, new_user

pytestmark = pytest.mark.django_db(transaction=True)

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize(
    ("body", "status", "scim_type"),
    [
        (b"{not json", 400, "invalidSyntax"),
        (b"[]", 400, "invalidSyntax"),
        (b'"a string"', 400, "invalidSyntax"),
        (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', 400, None),
        (b'{"userName": 12, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', 400, None),
        (
            b'{"userName": "no-email", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}',
            400,
            "invalidValue",
        ),
        (b'{"userName": "a@a.example", "active": "maybe"}', 400, None),
        (b'{"userName": "a\\u0000@a.example"}', 400, "invalidValue"),
        (b'{"userName": "a@a.example", "displayName": "A\\u0000"}', 400, "invalidValue"),
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "no-username",
        "username-number",
        "no-email",
        "active-not-bool",
        "nul",
        "nul-in-name",
    ],
)
def test_malformed_user_is_a_scim_error(
    scim: ScimSession, body: bytes, status: int, scim_type: str | None
) -> None:
    response = scim.post("/Users", data=body, headers={"Content-Type": SCIM_TYPE})
    assert_scim_error(response, status, scim_type)
    assert not Agent.objects.exists()
    assert not ApiChange.objects.exists()


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "explode", "value": {"active": False}}],
        [{"op": "replace", "path": "nosuch[[", "value": 1}],
        [{"op": "replace", "path": "active", "value": "nope"}],
        "not a list",
        [],
    ],
    ids=["bad-op", "bad-path", "bad-value", "not-a-list", "empty"],
)
def test_malformed_patch_is_a_scim_error(scim: ScimSession, operations: Any) -> None:
    user = scim.post("/Users", json=new_user()).json()
    response = scim.patch(
        f"/Users/{user['id']}", json={"schemas": [PATCH], "Operations": operations}
    )
    assert 400 <= response.status_code < 500, response.text
    assert_scim_error(response, response.status_code)
    assert Agent.objects.get(pk=user["id"]).is_active


@pytest.mark.parametrize(
    "query",
    ["userName eq", "((", 'userName zz "a"', 'emails[type eq "work"'],
)
def test_malformed_filter_is_invalid_filter(scim: ScimSession, query: str) -> None:
    assert_scim_error(scim.get("/Users", params={"filter": query}), 400, "invalidFilter")


@pytest.mark.parametrize("params", [{"count": "x"}, {"startIndex": "-"}])
def test_malformed_paging_is_a_scim_error(scim: ScimSession, params: dict[str, str]) -> None:
    response = scim.get("/Users", params=params)
    assert_scim_error(response, 400)


def test_malformed_group_is_a_scim_error(scim: ScimSession) -> None:
    assert_scim_error(scim.post("/Groups", json={"members": "x"}), 400)
    assert_scim_error(scim.post("/Groups", data=b"{", headers={"Content-Type": SCIM_TYPE}), 400)
