"""Rate limits on the real Redis: bursts of wrong admin passwords and of bad
sign-in tokens get 429 with Retry-After and the reason code
``rate_limited``, one audit row per crossing (not one per request), and no
session; refusals for unknown sites are counted, not written one row each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from sso_site.signin.refusals import RefusalReason
from tenants.models import LoginEvent, Site
from tests.factories import CampaignFactory
from tests.fixtures.cache import app_cache_clear
from tests.fixtures.chats import window_token

LIMITED = RefusalReason.RATE_LIMITED


def reason_on_page(content: bytes) -> str:
    body = content.decode()
    marker = 'id="reason-code">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


@pytest.fixture(autouse=True)
def limits(settings: SettingsWrapper) -> Iterator[dict[str, str]]:
    app_cache_clear()  # this suite's own Redis database: no counts from before
    rates = dict.fromkeys(django_settings.SSO_RATE_LIMITS, "1000/m")
    settings.SSO_RATE_LIMITS = rates
    yield rates
    app_cache_clear()


def assert_limited(response: object, *, json: bool = False) -> None:
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert int(response["Retry-After"]) >= 1  # type: ignore[index]
    if json:
        assert response.json()["error"] == LIMITED  # type: ignore[attr-defined]
    else:
        assert reason_on_page(response.content) == LIMITED  # type: ignore[attr-defined]


def limited_rows() -> list[LoginEvent]:
    return list(LoginEvent.objects.filter(reason=LIMITED))


def test_wrong_admin_passwords_lock_the_account_with_one_audit_row(
    db: None, limits: dict[str, str]
) -> None:
    User.objects.create_superuser("root", "root@example.com", "right-password")
    limits["admin_login_account"] = "5/15m"
    client = Client()
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    for _ in range(3):
        assert_limited(client.post("/admin/login/", {"username": "root", "password": "wrong"}))
    # Locked: even the right password is refused for now, and signs nobody in.
    response = client.post("/admin/login/", {"username": "root", "password": "right-password"})
    assert_limited(response)
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session
    [row] = limited_rows()
    assert row.outcome == LoginEvent.Outcome.REFUSED
    assert row.detail["limit"] == "admin_login_account"
    assert row.subject == "root"
    assert row.protocol == ""  # the admin password form is no SSO protocol
    # Another account from another address is not locked by it.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/admin/login/", {"username": "ann", "password": "x"}).status_code == 200


def test_admin_login_is_limited_per_address_across_accounts(
    db: None, limits: dict[str, str]
) -> None:
    limits["admin_login_ip"] = "10/15m"
    client = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(10):
        response = client.post("/admin/login/", {"username": f"u{n}", "password": "x"})
        assert response.status_code == 200
    assert_limited(client.post("/admin/login/", {"username": "fresh", "password": "x"}))
    [row] = limited_rows()
    assert row.detail["limit"] == "admin_login_ip"
    assert row.client_ip == "203.0.113.50"


@pytest.mark.parametrize(
    "endpoint",
    ["agent/jwt/", "visitor/jwt/", "agent/saml/acs/", "visitor/saml/acs/", "agent/login/"],
)
def test_a_burst_of_bad_tokens_from_one_address_gets_429(
    site: Site, limits: dict[str, str], endpoint: str
) -> None:
    limits["signin_ip"] = "20/m"
    client = Client(REMOTE_ADDR="203.0.113.60")
    url = f"/sso/{site.site_id}/{endpoint}"
    data = {"jwt": "not.a.token", "SAMLResponse": "bm90IHhtbA=="}
    for _ in range(20):
        assert client.post(url, data).status_code != 429
    before = LoginEvent.objects.count()
    for _ in range(10):
        response = client.post(url, data)
        assert_limited(response)
        assert "sessionid" not in response.cookies
    # One row for crossing the limit; the refused requests write nothing else.
    assert LoginEvent.objects.count() == before + 1
    [row] = limited_rows()
    assert row.site == site
    assert row.detail == {"limit": "signin_ip", "rate": "20/m"}


def test_a_site_is_limited_across_addresses(site: Site, limits: dict[str, str]) -> None:
    limits["signin_site"] = "15/m"
    url = f"/sso/{site.site_id}/agent/jwt/"
    for n in range(15):
        assert Client(REMOTE_ADDR=f"198.51.100.{n}").post(url, {"jwt": "x"}).status_code == 403
    assert_limited(Client(REMOTE_ADDR="198.51.100.200").post(url, {"jwt": "x"}))
    # Another site is not affected.
    assert Client().post("/sso/10002/agent/jwt/", {"jwt": "x"}).status_code == 403


def test_json_callers_get_a_json_429(site: Site, limits: dict[str, str]) -> None:
    limits["signin_ip"] = "2/m"
    client = Client(headers={"Accept": "application/json"})
    url = f"/sso/{site.site_id}/visitor/jwt/"
    client.post(url, {"jwt": "x"})
    client.post(url, {"jwt": "x"})
    assert_limited(client.post(url, {"jwt": "x"}), json=True)


def test_the_login_form_is_limited_per_address(db: None, limits: dict[str, str]) -> None:
    limits["login_form_ip"] = "5/m"
    client = Client()
    for n in range(5):
        assert client.post("/agent/login/", {"site_id": str(10 + n)}).status_code != 429
    assert_limited(client.post("/agent/login/", {"site_id": "10001"}))
    assert client.get("/agent/login/").status_code == 200  # the page itself stays


def test_guest_chats_are_limited_per_window_and_per_address(
    site: Site, limits: dict[str, str]
) -> None:
    limits["chat_start_token"] = "2/m"
    limits["chat_start_ip"] = "4/m"
    campaign = CampaignFactory.create(site=site, signin_mode="none")
    url = f"/chat/{site.site_id}/{campaign.pk}/api/start/"

    def start(token: str, ip: str = "203.0.113.70") -> Any:
        return Client(REMOTE_ADDR=ip).post(
            url, "{}", content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )

    token = window_token(campaign)
    assert start(token).status_code == 200
    assert start(token).status_code == 200
    assert_limited(start(token), json=True)
    # The same token from another address (guest tokens issued in the same
    # second are alike) is another window.
    assert start(token, ip="203.0.113.71").status_code == 200
    # Other windows from the first address: limited by the address.
    assert start(window_token(campaign, chat_pk=10**9)).status_code == 200
    assert_limited(start(window_token(campaign, chat_pk=10**9 + 1)), json=True)


def test_unknown_site_refusals_are_counted_not_written_each(
    db: None, settings: SettingsWrapper
) -> None:
    settings.SSO_UNKNOWN_SITE_AUDIT_SAMPLE = True
    client = Client()
    for _ in range(25):
        response = client.post("/sso/99999/agent/jwt/", {"jwt": "x"})
        assert response.status_code == 403
        assert reason_on_page(response.content) == RefusalReason.SITE_DISABLED
    rows = LoginEvent.objects.filter(site=None, reason=RefusalReason.SITE_DISABLED)
    assert rows.count() == 1
    keys = cache._cache.get_client().keys("*unknown-site-refusals*")  # type: ignore[attr-defined]
    counted = [cache.get(key.decode().split(":", 2)[2]) for key in keys]
    assert counted == [25]
