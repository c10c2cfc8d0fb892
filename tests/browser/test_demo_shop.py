"""The run command's demo: the shop page of ``/dev-idp/shop/`` embeds site
10001's campaigns cross-site (the other loopback name), and a visitor signs
in through the development IdP's visitor login page in the popup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.models import Campaign
from chats.models import Chat
from tenants.models import Site

pytestmark = pytest.mark.browser


def test_demo_shop_shows_the_three_modes_and_a_vip_signs_in(
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    visitor_context: Any,
    screenshot: Callable[[Any, str], None],
) -> None:
    settings.SSO_DEVIDP_DIR = tmp_path
    call_command("demo_setup", base_url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    port = live_server.url.rsplit(":", 1)[1]
    Site.objects.filter(site_id=10001).update(
        allowed_origins=f"http://127.0.0.1:{port}\nhttp://localhost:{port}"
    )
    campaigns = {
        c.signin_mode: c for c in Campaign.objects.filter(site__site_id=10001, visitor_sso="jwt")
    }
    assert set(campaigns) == {"none", "optional", "required"}
    page = visitor_context.new_page()
    shop = f"http://127.0.0.1:{port}/dev-idp/shop/"

    expected = {"none": "#survey", "optional": "#guest-button", "required": "#signin-button"}
    for mode, selector in expected.items():
        page.goto(f"{shop}?campaign={campaigns[mode].pk}")
        page.click("#sso-chat-button")
        frame = page.frame_locator("#sso-chat-frame")
        expect(frame.locator(selector)).to_be_visible()
        screenshot(page, f"demo-{mode}")
    expect(frame.locator("#guest-button")).to_be_hidden()

    with page.expect_popup() as popup_info:
        frame.locator("#signin-button").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.evaluate("() => window.opener !== null")  # COOP same-origin-allow-popups
    popup.locator("#as-vera").click()
    expect(frame.locator("#who")).to_have_text("Signed in as Vera Summit")
    expect(frame.locator("#conversation")).to_be_visible()
    assert page.evaluate("() => true")  # the shop page itself never navigated
    assert page.url.startswith(shop)
    screenshot(page, "demo-required-signed-in")
    chat = Chat.objects.get()
    assert chat.group == "vip"
    assert chat.visitor is not None
    assert chat.visitor.custom["membership_level"] == "VIP"


def test_demo_shop_members_via_saml_signs_a_visitor_in_through_the_popup(
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    visitor_context: Any,
    screenshot: Callable[[Any, str], None],
) -> None:
    """The SAML campaign: the popup keeps its opener through the visitor ACS."""
    settings.SSO_DEVIDP_DIR = tmp_path
    call_command("demo_setup", base_url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    port = live_server.url.rsplit(":", 1)[1]
    Site.objects.filter(site_id=10001).update(
        allowed_origins=f"http://127.0.0.1:{port}\nhttp://localhost:{port}"
    )
    campaign = Campaign.objects.get(site__site_id=10001, visitor_sso="saml")
    page = visitor_context.new_page()
    shop = f"http://127.0.0.1:{port}/dev-idp/shop/"
    page.goto(f"{shop}?campaign={campaign.pk}")
    page.click("#sso-chat-button")
    frame = page.frame_locator("#sso-chat-frame")
    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator("#guest-button")).to_be_hidden()

    with page.expect_popup() as popup_info:
        frame.locator("#signin-button").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    expect(popup.locator("h1")).to_have_text("Development identity provider")
    with popup.expect_event("close"):
        popup.locator("button[data-email^='vera@']").click()
    expect(frame.locator("#who")).to_have_text("Signed in as Vera Summit")
    expect(frame.locator("#conversation")).to_be_visible()  # the chat started
    expect(frame.locator("#title")).to_have_text("Members' lounge")  # not the internal name
    assert page.url.startswith(shop)
    screenshot(page, "demo-saml-signed-in")
    chat = Chat.objects.get()
    assert chat.group == "vip"
    assert chat.visitor is not None
    assert chat.visitor.custom["membership_level"] == "VIP"


def test_demo_shop_asks_its_backend_for_a_fresh_token_only_when_the_window_needs_one(
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    visitor_context: Any,
    screenshot: Callable[[Any, str], None],
) -> None:
    """getToken: no JWT in the page; the shop mints one just before use."""
    settings.SSO_DEVIDP_DIR = tmp_path
    call_command("demo_setup", base_url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    port = live_server.url.rsplit(":", 1)[1]
    Site.objects.filter(site_id=10001).update(
        allowed_origins=f"http://127.0.0.1:{port}\nhttp://localhost:{port}"
    )
    campaign = Campaign.objects.get(
        site__site_id=10001, visitor_sso="jwt", signin_mode=Campaign.SignInMode.REQUIRED
    )
    page = visitor_context.new_page()
    minted: list[str] = []
    page.on("request", lambda r: minted.append(r.method) if "/shop/token/" in r.url else None)
    shop = f"http://127.0.0.1:{port}/dev-idp/shop/?campaign={campaign.pk}"
    page.goto(shop)
    assert "eyJ" not in page.content()  # no token baked into the page
    page.click("#sso-chat-button")
    frame = page.frame_locator("#sso-chat-frame")
    expect(frame.locator("#signin-button")).to_be_visible()
    assert minted == []  # nobody is logged in to the shop: nothing minted

    page.click("#host-signin")

    expect(frame.locator("#who")).to_have_text("Signed in as Hana Host")
    expect(frame.locator("#conversation")).to_be_visible()
    assert minted == ["POST"]
    screenshot(page, "demo-gettoken-signed-in")
    chat = Chat.objects.get()
    assert chat.visitor is not None
    assert chat.visitor.name == "Hana Host"
    frame.locator("#message-input").fill("Is my tent shipped?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Is my tent shipped?")

    # A shared device: the shop's user logs out, the next person sees nothing.
    page.click("#host-signout")
    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator(".msg.visitor")).to_have_count(0)
    expect(frame.locator("#who")).not_to_contain_text("Hana")
    page.reload()
    page.click("#sso-chat-button")
    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator(".msg.visitor")).to_have_count(0)
    assert minted == ["POST"]  # nobody logged in to the shop: no token asked
