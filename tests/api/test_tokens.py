"""Tokens: bearer auth, scopes, revocation, expiry, rate limit, the admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiChange, ApiToken, token_digest
from api.services import api_token_revoke
from tenants.models import Agent, Site
from tenants.services import operator_grant
from tests.api.conftest import TokenFactory
from tests.fixtures.cache import app_cache_clear

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_token_is_stored_as_a_digest_only(site: Site, token_factory: TokenFactory) -> None:
    token, raw = token_factory(site)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(raw)
    assert raw not in {str(getattr(stored, f.attname)) for f in ApiToken._meta.concrete_fields}
    assert raw.startswith(stored.prefix)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer", "token_invalid"),
        ("Bearer sso_notarealtoken", "token_invalid"),
        ("Bearer a b", "token_invalid"),
        ("Bearer sso_\u00e9t\u00e9", "token_invalid"),
    ],
)
def test_missing_or_unknown_token_is_401(agent: Agent, header: str | None, code: str) -> None:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/agents/")
    assert_refused(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(site: Site, token_factory: TokenFactory) -> None:
    token, raw = token_factory(site)
    assert bearer(raw).get("/api/v1/agents/").status_code == 200
    api_token_revoke(site=site, token=token)
    assert_refused(bearer(raw).get("/api/v1/agents/"), 401, "token_revoked")


def test_expired_token_is_refused(site: Site, token_factory: TokenFactory) -> None:
    _, raw = token_factory(site, expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(bearer(raw).get("/api/v1/agents/"), 401, "token_expired")


def test_token_not_yet_expired_works(site: Site, token_factory: TokenFactory) -> None:
    _, raw = token_factory(site, expires_at=timezone.now() + timedelta(hours=1))
    assert bearer(raw).get("/api/v1/agents/").status_code == 200


def test_read_only_token_is_refused_on_writes(
    site: Site, agent: Agent, token_factory: TokenFactory
) -> None:
    _, raw = token_factory(site, scopes=["read"])
    client = bearer(raw)
    assert client.get("/api/v1/agents/").status_code == 200
    writes = [
        client.post("/api/v1/agents/", {"email": "x@a.example"}, format="json"),
        client.patch(f"/api/v1/agents/{agent.pk}/", {"name": "x"}, format="json"),
        client.post(f"/api/v1/agents/{agent.pk}/deactivate/"),
        client.post("/api/v1/campaigns/", {"name": "c"}, format="json"),
        client.patch("/api/v1/site/", {"name": "x"}, format="json"),
    ]
    for response in writes:
        assert_refused(response, 403, "scope_missing")
    agent.refresh_from_db()
    assert agent.is_active
    assert agent.name != "x"
    assert not ApiChange.objects.exists()


def test_last_use_is_recorded(site: Site, token_factory: TokenFactory) -> None:
    token, raw = token_factory(site)
    assert token.last_used_at is None
    bearer(raw).get("/api/v1/agents/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_rate_limit_per_token(site: Site, token_factory: TokenFactory, settings) -> None:
    settings.SSO_API_RATE = "3/min"
    app_cache_clear()
    _, raw = token_factory(site)
    _, other_raw = token_factory(site)
    statuses = [bearer(raw).get("/api/v1/agents/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = bearer(raw).get("/api/v1/agents/")
    assert_refused(limited, 429, "throttled")
    assert int(limited["Retry-After"]) > 0
    assert bearer(other_raw).get("/api/v1/agents/").status_code == 200


# The admin: operators create (shown once) and revoke their own site's tokens.


@pytest.fixture
def op_client(client: Client, site: Site) -> Client:
    user = User.objects.create_user("op-a", "op@a.example", "pw")
    operator_grant(site=site, user=user)
    client.force_login(user)
    return client


def test_admin_creates_a_token_shown_once(op_client: Client, site: Site) -> None:
    response = op_client.post(
        "/admin/api/apitoken/add/",
        {"site": site.pk, "name": "HR sync", "scopes": ["read", "write"], "expires_at": ""},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'id="api-token"[^>]*>(sso_[^<]+)<', response.content.decode())
    assert raw is not None
    token = ApiToken.objects.get(site=site, name="HR sync")
    assert token.digest == token_digest(raw.group(1))
    assert token.scopes == ["read", "write"]
    assert token.created_by == "op-a"
    page = op_client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw.group(1) not in page
    assert token.prefix in page
    assert bearer(raw.group(1)).get("/api/v1/agents/").status_code == 200


def test_admin_refuses_a_token_for_another_site(op_client: Client, other_site: Site) -> None:
    response = op_client.post(
        "/admin/api/apitoken/add/",
        {"site": other_site.pk, "name": "stolen", "scopes": ["read"]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_admin_revokes_a_token(op_client: Client, site: Site, token_factory: TokenFactory) -> None:
    token, raw = token_factory(site)
    response = op_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_refused(bearer(raw).get("/api/v1/agents/"), 401, "token_revoked")


def test_operator_does_not_see_other_sites_tokens(
    op_client: Client, other_site: Site, token_factory: TokenFactory
) -> None:
    token, _ = token_factory(other_site)
    assert token.name not in op_client.get("/admin/api/apitoken/").content.decode()
    revoked = op_client.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert revoked.status_code in (200, 302)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_rate_limit_store_down_is_503_not_500(
    site: Site,
    token_factory: TokenFactory,
    settings,
) -> None:
    _, raw = token_factory(site)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert_refused(bearer(raw).get("/api/v1/agents/"), 503, "service_unavailable")
