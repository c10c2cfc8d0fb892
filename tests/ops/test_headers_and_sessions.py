"""Security headers and admin session limits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from sso_site.admin_session import SEEN, STARTED
from tenants.models import LoginEvent, Site
from tests.factories import CampaignFactory


def directives(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    parts = (d.strip().partition(" ") for d in header.split(";"))
    return {name: value for name, _, value in parts}


@pytest.mark.parametrize("path", ["/agent/login/", "/healthz", "/admin/login/", "/nowhere/"])
def test_every_page_has_a_content_security_policy(client: Client, db: None, path: str) -> None:
    policy = directives(client.get(path))
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


def test_the_chat_window_keeps_its_sites_frame_ancestors(client: Client, site: Site) -> None:
    site.allowed_origins = "https://shop.example"
    site.save()
    campaign = CampaignFactory.create(site=site, signin_mode="none")
    policy = directives(client.get(f"/chat/{site.site_id}/{campaign.pk}/"))
    assert policy["frame-ancestors"] == "'self' https://shop.example"
    assert policy["default-src"] == "'self'"


@pytest.fixture
def admin_client(db: None) -> Client:
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.login(username="root", password="pw")
    return client


def _age(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_an_idle_admin_session_ends(admin_client: Client, settings: SettingsWrapper) -> None:
    settings.SSO_ADMIN_IDLE_SECONDS = 1800
    assert admin_client.get("/admin/").status_code == 200
    _age(admin_client, SEEN, 1700)
    assert admin_client.get("/admin/").status_code == 200  # still active: renewed
    _age(admin_client, SEEN, 1801)
    response = admin_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_admin_session_ends_at_its_absolute_lifetime(
    admin_client: Client, settings: SettingsWrapper
) -> None:
    settings.SSO_ADMIN_MAX_AGE_SECONDS = 8 * 3600
    assert admin_client.get("/admin/").status_code == 200
    _age(admin_client, STARTED, 8 * 3600 + 1)
    response = admin_client.get("/admin/")  # active all along, but too old
    assert response.status_code == 302


def test_behind_the_proxy_the_client_address_comes_from_x_real_ip(
    site: Site, settings: SettingsWrapper
) -> None:
    settings.SSO_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client = Client(REMOTE_ADDR="127.0.0.1", headers={"X-Real-IP": "198.51.100.23"})
    assert client.post(f"/sso/{site.site_id}/agent/jwt/", {"jwt": "x"}).status_code == 403
    forged = Client(REMOTE_ADDR="127.0.0.1", headers={"X-Real-IP": "not an address"})
    forged.post(f"/sso/{site.site_id}/agent/jwt/", {"jwt": "x"})
    rows = LoginEvent.objects.order_by("pk").values_list("client_ip", flat=True)
    assert list(rows) == ["198.51.100.23", "127.0.0.1"]


def test_beat_schedules_registered_tasks() -> None:
    import chats.tasks  # noqa: F401  (registers the task, as the worker's autodiscovery does)
    import tenants.tasks  # noqa: F401
    from sso_site.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {"tenants.tasks.replay_purge_expired", "chats.tasks.chats_expire_abandoned"}
    assert scheduled <= set(app.tasks)
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "celery -A sso_site worker -B" in makefile
