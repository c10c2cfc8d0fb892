"""The JWT settings admin: scoped to the operator's sites; the secret is
shown once, on the page that generated it, and never again.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from sso.jwt.models import JwtSettings
from tenants.models import Agent, Site
from tenants.services import OPERATOR_GROUP, operator_grant
from tests.fixtures.jwt import callback_url, session_binding


@pytest.fixture
def hs256_settings(site: Site) -> JwtSettings:
    config = JwtSettings(site=site, login_url="https://login.shop.example/", algorithm="HS256")
    config.save()
    return config


@pytest.fixture
def operator_client(client: Client, site: Site) -> Client:
    user = User.objects.create_user("op", password="pw-op-123456")
    operator_grant(site=site, user=user)
    client.force_login(user)
    return client


def admin_url(config: JwtSettings, suffix: str = "change/") -> str:
    return f"/admin/sso_jwt/jwtsettings/{config.pk}/{suffix}"


def test_secret_is_generated_on_request_shown_once_and_never_again(
    operator_client: Client,
    hs256_settings: JwtSettings,
    jwt_agent: Agent,
    jwt_factory: Any,
) -> None:
    client = operator_client
    confirm = client.get(admin_url(hs256_settings, "secret/"))
    assert confirm.status_code == 200
    assert b"shown once" in confirm.content

    shown = client.post(admin_url(hs256_settings, "secret/"))

    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    secret = re.search(r'id="shared-secret"[^>]*>([^<]+)<', shown.content.decode())[1]  # type: ignore[index]
    assert len(secret.encode()) >= 32
    for page in (admin_url(hs256_settings), "/admin/sso_jwt/jwtsettings/"):
        body = client.get(page).content.decode()
        assert secret not in body
        assert JwtSettings.objects.get().secret_fingerprint in body
    # The shown secret is the one that verifies tokens.
    hs256_settings.refresh_from_db()
    hs256_settings.enabled = True
    hs256_settings.full_clean()
    hs256_settings.save()
    token = jwt_factory(hs256_settings.site, "HS256", key=secret.encode(), iss=None, aud=None)
    response = Client().get(callback_url(hs256_settings.site), {"jwt": token})
    assert response.status_code == 302


def test_generating_needs_a_post(operator_client: Client, hs256_settings: JwtSettings) -> None:
    operator_client.get(admin_url(hs256_settings, "secret/"))
    hs256_settings.refresh_from_db()
    assert hs256_settings.secret_encrypted == ""


def test_operator_cannot_reach_another_sites_settings(
    operator_client: Client, other_site: Site
) -> None:
    theirs = JwtSettings(site=other_site, login_url="https://b.example/", algorithm="HS256")
    theirs.save()

    assert operator_client.post(admin_url(theirs, "secret/")).status_code in {302, 404}
    assert operator_client.get(admin_url(theirs)).status_code in {302, 404}
    assert "b.example" not in operator_client.get("/admin/sso_jwt/jwtsettings/").content.decode()
    theirs.refresh_from_db()
    assert theirs.secret_encrypted == ""


def test_operator_adds_settings_with_validation_messages(
    operator_client: Client, site: Site
) -> None:
    response = operator_client.post(
        "/admin/sso_jwt/jwtsettings/add/",
        {
            "site": site.pk,
            "audience": "agent",
            "enabled": "on",
            "login_url": "https://login.shop.example/",
            "algorithm": "RS256",
            "public_key": "not a key",
            "max_age": 300,
            "leeway": 60,
            "max_token_bytes": 8192,
            "jit_role": "agent",
            "mfa_methods": "mfa",
        },
    )
    assert response.status_code == 200
    assert b"Not a PEM public key" in response.content
    assert not JwtSettings.objects.exists()
    assert session_binding(operator_client) is None


def test_migrating_gives_the_operators_group_the_jwt_permissions(db: None) -> None:
    Group.objects.filter(name=OPERATOR_GROUP).delete()
    call_command("migrate", "sso_jwt", verbosity=0)
    codenames = set(
        Group.objects.get(name=OPERATOR_GROUP).permissions.values_list("codename", flat=True)
    )
    assert {"view_jwtsettings", "change_jwtsettings"} <= codenames
