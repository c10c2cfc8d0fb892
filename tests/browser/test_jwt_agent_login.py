"""Headless Chromium through the JWT demo: site-ID form, the customer's
login page (the dev IdP), the callback, the console, and remote logout.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devidp import demo_jwt
from devidp.jwt_login import DEMO_SITE_ID
from tenants.models import LoginEvent

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


@contextmanager
def chromium_page() -> Iterator[Any]:
    """Yield a page of headless Chromium.

    Make no ORM call inside: Playwright runs its caller in a greenlet with
    its own context, where Django would open (and leak) another connection.
    """
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_agent_signs_in_over_jwt_and_out_at_the_customer(
    live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SSO_DEVIDP_DIR = tmp_path
    demo_jwt.configure(base_url=live_server.url)

    with chromium_page() as page:
        page.goto(f"{live_server.url}/agent/login/")
        page.fill("input[name=site_id]", str(DEMO_SITE_ID))
        page.click("button[type=submit]")
        page.wait_for_url("**/dev-idp/jwt/login/**")
        page.get_by_role("button", name="Sign in as Kim Agent").click()
        page.wait_for_url(f"{live_server.url}/console/")
        signed_in_as = page.text_content("#agent-email")
        url_after_sign_in = page.url

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/dev-idp/jwt/logout/")
        page.goto(f"{live_server.url}/console/")
        url_after_sign_out = page.url

    assert signed_in_as == "kim@jwt-demo.example"
    assert "jwt=" not in url_after_sign_in
    assert "/agent/login/" in url_after_sign_out
    outcomes = list(LoginEvent.objects.values_list("outcome", flat=True).order_by("created_at"))
    assert outcomes == ["success", "signed_out"]
