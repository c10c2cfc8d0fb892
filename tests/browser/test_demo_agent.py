"""The README's agent demo paths on the demo data of ``make run``: the work
email finds the site (the demo claims its domains), at ``localhost`` as at
``127.0.0.1``; GET on the sign-out URL shows a sign-out button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tenants.models import LoginEvent

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server: Any, settings: Any, tmp_path: Path) -> str:
    settings.SSO_DEVIDP_DIR = tmp_path
    call_command("demo_setup", base_url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return str(live_server.url)


def test_a_work_email_signs_an_agent_in_over_saml_and_out_again(demo: str, page: Any) -> None:
    base = demo
    page.goto(f"{base}/agent/login/")
    page.fill("input[name=site_id]", "alice@demo.example")
    page.click("button[type=submit]")
    page.wait_for_url("**/dev-idp/sso/**")
    page.click("button[data-email='alice@demo.example']")
    page.wait_for_url(f"{base}/console/")
    expect(page.locator("#agent-email")).to_have_text("alice@demo.example")

    page.goto(f"{base}/agent/logout/")
    expect(page.locator("h1")).to_have_text("Sign out of the agent console")
    page.click("#sign-out")
    page.wait_for_url(f"{base}/agent/login/")
    page.goto(f"{base}/console/")
    assert "/agent/login/" in page.url
    outcomes = list(LoginEvent.objects.values_list("outcome", flat=True).order_by("pk"))
    assert outcomes == [LoginEvent.Outcome.SUCCESS, LoginEvent.Outcome.SIGNED_OUT]


def test_a_work_email_of_the_jwt_demo_site_goes_to_its_login_page(demo: str, page: Any) -> None:
    page.goto(f"{demo}/agent/login/")
    page.fill("input[name=site_id]", "someone@jwt-demo.example")
    page.click("button[type=submit]")
    page.wait_for_url("**/dev-idp/jwt/**")


def test_saml_at_the_other_loopback_name_says_clearly_why_not(demo: str, page: Any) -> None:
    """The demo IdP serves the name it was set up with (``make run``:
    127.0.0.1); from the other name it explains and links to the right one.
    """
    setup_host = demo.split("//", 1)[1]
    host, port = setup_host.rsplit(":", 1)
    other = "127.0.0.1" if host == "localhost" else "localhost"
    page.goto(f"http://{other}:{port}/agent/login/")
    page.fill("input[name=site_id]", "10001")
    page.click("button[type=submit]")
    expect(page.locator("#other-host")).to_contain_text(f"set up for {setup_host}")
    page.click("#use-idp-host")
    page.wait_for_url(f"{demo}/agent/login/")
