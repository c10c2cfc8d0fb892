"""The demo journey in a real browser: site ID, development IdP, console,
sign-out through SAML single logout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devidp import demo_saml
from sso.saml.config import sp_config_cache_clear
from tenants.models import Agent, LoginEvent, Site


@pytest.mark.browser
def test_agent_signs_in_with_dev_idp_and_out_again(
    transactional_db: None,
    live_server: Any,
    page: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = Site.objects.create(site_id=10001, name="Demo Outdoor Shop")
    agent = Agent.objects.create(site=site, email="alice@demo.example", name="Alice Admin")
    monkeypatch.setattr(demo_saml, "KEY_DIR", tmp_path / "devidp")
    sp_config_cache_clear()
    demo_saml.configure(base_url=live_server.url)

    page.goto(f"{live_server.url}/agent/login/")
    page.fill("input[name=site_id]", "10001")
    page.click("button[type=submit]")
    page.wait_for_url("**/dev-idp/sso/**")
    page.click(f"button[data-email='{agent.email}']")
    page.wait_for_url(f"{live_server.url}/console/")

    assert page.inner_text("#agent-email") == agent.email

    page.goto(f"{live_server.url}/agent/login/")
    assert page.inner_text("#remembered-site") == "10001"
    page.goto(f"{live_server.url}/console/")
    page.click("form[action='/agent/logout/'] button")
    page.wait_for_url(f"{live_server.url}/agent/login/")
    page.goto(f"{live_server.url}/console/")
    assert "/agent/login/" in page.url
    # The IdP's signed LogoutResponse was accepted: one sign-out, no refusal.
    outcomes = list(LoginEvent.objects.values_list("outcome", flat=True).order_by("pk"))
    assert outcomes == [LoginEvent.Outcome.SUCCESS, LoginEvent.Outcome.SIGNED_OUT]
