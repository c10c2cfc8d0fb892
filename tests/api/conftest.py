"""API fixtures: tokens made by the service the admin uses, and a client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from api.models import ApiChange, ApiToken
from api.services import api_token_create
from tenants.models import Site

TokenFactory = Callable[..., tuple[ApiToken, str]]


@pytest.fixture
def token_factory(db: None) -> TokenFactory:
    """Return ``make(site, scopes=..., expires_at=...)`` -> (token, raw)."""
    counter = iter(range(1_000_000))

    def make(
        site: Site, *, scopes: list[str] | None = None, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        return api_token_create(
            site=site,
            name=f"token {next(counter)}",
            scopes=scopes or ["read", "write"],
            expires_at=expires_at,
        )

    return make


@pytest.fixture
def api(site: Site, token_factory: TokenFactory) -> APIClient:
    """A client with a read-write token of ``site`` (the token: ``api.token``)."""
    token, raw = token_factory(site)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token  # type: ignore[attr-defined]
    return client


@pytest.fixture
def api_b(other_site: Site, token_factory: TokenFactory) -> APIClient:
    """A client with a read-write token of ``other_site``."""
    token, raw = token_factory(other_site)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token  # type: ignore[attr-defined]
    return client


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["results"]
    return items


def last_change() -> ApiChange:
    change = ApiChange.objects.order_by("-pk").first()
    assert change is not None
    return change
