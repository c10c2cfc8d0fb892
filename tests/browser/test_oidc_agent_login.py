"""Headless Chromium signs an agent in through a real OpenID provider's
login page (site-ID form, the provider's page, the callback, the console),
then out with RP-initiated logout; and through the development IdP's demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devidp import demo_oidc
from sso.oidc.models import OidcSettings
from sso_site.secret_store import secret_encrypt
from tenants.models import LoginEvent, Protocol
from tests.factories import AgentFactory, SiteFactory
from tests.fixtures.oidc import CLIENT_ID, CLIENT_SECRET, redirect_uri
from tests.sso.oidc.provider import OpenIDProvider, provider_serve

pytestmark = pytest.mark.browser


@pytest.fixture
def provider() -> Iterator[OpenIDProvider]:
    idp = OpenIDProvider()
    httpd, _thread = provider_serve(idp)
    yield idp
    httpd.shutdown()
    httpd.server_close()


def test_agent_signs_in_through_the_providers_login_page(
    live_server: Any, page: Any, provider: OpenIDProvider
) -> None:
    site = SiteFactory.create(site_id=10001, name="Site A")
    AgentFactory.create(site=site, email="olivia@a.example")
    provider.add_user("olivia@a.example")
    provider.add_client(CLIENT_ID, CLIENT_SECRET, redirect_uri(site, host=live_server.url))
    OidcSettings.objects.create(
        site=site,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret_encrypted=secret_encrypt(CLIENT_SECRET),
    )

    page.goto(f"{live_server.url}/agent/login/")
    page.fill("input[name=site_id]", "10001")
    page.click("button[type=submit]")
    page.wait_for_url(f"{provider.issuer}/authorize?**")
    page.select_option("select[name=email]", "olivia@a.example")
    page.click("#provider-login")
    page.wait_for_url(f"{live_server.url}/console/")
    signed_in_as = page.text_content("#agent-email")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/agent/login/")

    assert signed_in_as == "olivia@a.example"
    assert provider.ended_sessions == 1
    events = LoginEvent.objects.order_by("created_at")
    assert [e.outcome for e in events] == ["success", "signed_out"]
    assert events[0].protocol == Protocol.OIDC


def test_agent_signs_in_with_the_dev_idp_oidc_demo(
    live_server: Any, page: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SSO_DEVIDP_DIR = tmp_path
    demo_oidc.configure(base_url=live_server.url)

    page.goto(f"{live_server.url}/agent/login/")
    page.fill("input[name=site_id]", str(demo_oidc.DEMO_SITE_ID))
    page.click("button[type=submit]")
    page.wait_for_url("**/dev-idp/oidc/authorize/**")
    page.get_by_role("button", name="Olga OIDC-Admin").click()
    page.wait_for_url(f"{live_server.url}/console/")

    assert page.text_content("#agent-email") == "olga@oidc-demo.example"
    event = LoginEvent.objects.get()
    assert event.protocol == Protocol.OIDC
