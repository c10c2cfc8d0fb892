"""SCIM fixtures: a token with the ``scim`` scope, and a real HTTP client
(requests) on the live server, as an identity provider would call it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from api.services import api_token_create
from tenants.models import Site

SCIM_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimSession(requests.Session):
    """A session whose relative paths are under one site's SCIM root."""

    def __init__(self, base: str, raw_token: str | None) -> None:
        super().__init__()
        self.base = base
        self.headers["Accept"] = SCIM_TYPE
        if raw_token:
            self.headers["Authorization"] = f"Bearer {raw_token}"

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


def scim_token(site: Site, scopes: tuple[str, ...] = ("scim",)) -> str:
    _, raw = api_token_create(site=site, name=f"IdP {'-'.join(scopes)}", scopes=list(scopes))
    return raw


@pytest.fixture
def scim(live_server: Any, site: Site) -> ScimSession:
    """A SCIM client of ``site`` with a ``scim`` token of its own."""
    return ScimSession(f"{live_server.url}/scim/v2/{site.site_id}", scim_token(site))


@pytest.fixture
def scim_as(live_server: Any) -> Any:
    """Return ``make(site_id, raw_token)``: a client of any site root and token."""

    def make(site_id: int, raw: str | None) -> ScimSession:
        return ScimSession(f"{live_server.url}/scim/v2/{site_id}", raw)

    return make


def assert_scim_error(response: Any, status: int, scim_type: str | None = None) -> None:
    """Assert a SCIM Error body (RFC 7644 §3.12), never an HTML page or a 500."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(SCIM_TYPE)
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert str(body["status"]) == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body


def new_user(user_name: str = "carol@a.example", **extra: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": "00u-" + user_name.split("@")[0],
        "name": {"givenName": "Carol", "familyName": "Danvers"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }
