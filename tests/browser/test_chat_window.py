"""The chat window embedded cross-site, in headless Chromium with third-party
cookies blocked: the three sign-in modes, the JWT handoff, the popup sign-in,
the agent's sign-in request and routing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chats.models import Chat, Message
from sso_site.signin.session import sign_in
from tests.browser.conftest import World
from tests.conftest import identity_for, session_request

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], None]


def open_window(context: Any, url: str) -> tuple[Any, Any]:
    """Open the shop page, click the chat button; return (page, chat frame)."""
    page = context.new_page()
    page.goto(url)
    page.click("#sso-chat-button")
    frame = page.frame_locator("#sso-chat-frame")
    expect(frame.locator("body[data-view]")).to_have_count(1)
    return page, frame


def sign_in_in_popup(page: Any, frame: Any, button: str, who: str) -> None:
    """Click a sign-in button in the window; sign in as ``who`` in the popup."""
    with page.expect_popup() as popup_info:
        frame.locator(button).click()
    popup = popup_info.value
    popup.wait_for_load_state()
    # No Cross-Origin-Opener-Policy on the way: the popup keeps its opener
    # and hands the code back by postMessage, then closes itself.
    assert popup.evaluate("() => window.opener !== null")
    popup.locator(f"#as-{who}").click()
    for _ in range(100):  # the handoff page closes the popup by itself
        if popup.is_closed():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the sign-in popup stayed open at {popup.url}")


def chat_frame(page: Any) -> Any:
    return next(f for f in page.frames if "/chat/" in f.url)


def test_third_party_cookies_are_blocked_in_the_window(visitor_context: Any, world: World) -> None:
    page, _ = open_window(visitor_context, world.shop_url(world.none))
    stored = chat_frame(page).evaluate(
        "() => { document.cookie = 'probe=1; SameSite=None; Secure'; return document.cookie; }"
    )
    storage = chat_frame(page).evaluate(
        "() => { try { sessionStorage.setItem('probe', '1'); return 'usable'; }"
        " catch (e) { return e.name; } }"
    )
    assert stored == ""
    assert storage == "SecurityError"  # third-party storage is blocked with the cookies


def test_no_sign_in_mode_starts_with_the_survey_then_the_chat(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.none))
    expect(frame.locator("#survey")).to_be_visible()
    expect(frame.locator("#signin-button")).to_be_hidden()
    screenshot(page, "none-1-survey")

    frame.locator("#survey-topic").fill("Tent poles")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Do you sell spare poles?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Do you sell spare poles?")
    screenshot(page, "none-2-chat")

    chat = Chat.objects.get()
    assert chat.visitor is None
    assert chat.survey_answers == {"topic": "Tent poles"}


def test_optional_mode_offers_sign_in_and_guest_and_guests_fill_the_survey(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.optional))
    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator("#guest-button")).to_be_visible()
    screenshot(page, "optional-1-choice")

    frame.locator("#guest-button").click()
    expect(frame.locator("#survey")).to_be_visible()
    frame.locator("#survey-topic").fill("Boots")
    frame.locator("#survey-submit").click()
    expect(frame.locator("#conversation")).to_be_visible()
    expect(frame.locator("#who")).to_have_text("Chatting as guest")
    assert Chat.objects.get().survey_answers == {"topic": "Boots"}


def test_optional_mode_sign_in_skips_the_survey_and_routes_a_vip(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.optional))

    sign_in_in_popup(page, frame, "#signin-button", "vip")

    expect(frame.locator("#who")).to_have_text("Signed in as Vera VIP")
    expect(frame.locator("#conversation")).to_be_visible()
    expect(frame.locator("#survey")).to_be_hidden()
    frame.locator("#message-input").fill("Hello from a VIP")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Hello from a VIP")
    screenshot(page, "optional-2-signed-in")
    chat = Chat.objects.get()
    assert chat.visitor is not None
    assert chat.visitor.custom == {"membership_level": "VIP"}
    assert chat.group == "vip"
    assert chat.survey_answers == {}


def test_required_mode_offers_only_sign_in_and_starts_no_chat_without_it(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.required))
    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator("#guest-button")).to_be_hidden()
    expect(frame.locator("#composer")).to_be_hidden()
    screenshot(page, "required-1-sign-in-only")

    # Even a window that calls its own API directly gets no chat.
    status = chat_frame(page).evaluate(
        """async () => {
            const cfg = JSON.parse(document.getElementById("chat-config").textContent);
            const headers = {"Authorization": "Bearer " + cfg.token,
                             "Content-Type": "application/json"};
            const r = await fetch(cfg.api + "start/", {method: "POST", headers, body: "{}"});
            return [r.status, (await r.json()).error];
        }"""
    )
    assert status == [403, "signin_required"]
    assert not Chat.objects.exists()

    sign_in_in_popup(page, frame, "#signin-button", "basic")
    expect(frame.locator("#who")).to_have_text("Signed in as Gus Basic")
    expect(frame.locator("#conversation")).to_be_visible()
    screenshot(page, "required-2-signed-in")
    assert Chat.objects.get().group == "general"


def test_the_host_pages_jwt_signs_in_with_no_redirect(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.required, who="host"))
    expect(frame.locator("#intro")).to_be_visible()
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url))
    popups: list[Any] = []
    visitor_context.on("page", lambda p: popups.append(p))

    page.click("#host-signin")

    expect(frame.locator("#who")).to_have_text("Signed in as Hana Host")
    expect(frame.locator("#conversation")).to_be_visible()
    screenshot(page, "jwt-handoff-signed-in")
    assert navigations == []
    assert popups == []
    chat = Chat.objects.get()
    assert chat.visitor is not None
    assert chat.visitor.external_id == "host-7"
    assert chat.group == "vip"


def agent_console(agent_browser: Any, world: World) -> Any:
    request = session_request()
    sign_in(request, identity=identity_for(world.agent))
    request.session.save()
    context = agent_browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": request.session.session_key,
                "url": world.gateway,
            }
        ]
    )
    return context.new_page()


def test_agent_sign_in_request_then_the_guest_signs_in_and_the_panel_shows_fields(
    visitor_context: Any, agent_browser: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.optional))
    frame.locator("#guest-button").click()
    frame.locator("#survey-topic").fill("My order")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Where is my order?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Where is my order?")
    chat = Chat.objects.get()

    console = agent_console(agent_browser, world)
    console.goto(f"{world.gateway}/console/")
    console.click(f"tr[data-chat='{chat.pk}'] a")
    expect(console.locator("#visitor-kind")).to_have_text("Guest, unverified (not signed in)")
    expect(console.locator("#messages .msg.visitor")).to_have_text("Where is my order?")
    console.fill("#reply-input", "Could you sign in so I can look it up?")
    console.click("#reply-button")
    console.click("#signin-request-button")
    expect(console.locator("#signin-request-status")).to_contain_text("Sign-in request sent")
    screenshot(console, "agent-1-guest")

    expect(frame.locator("#signin-prompt")).to_be_visible()
    expect(frame.locator(".msg.agent")).to_have_text("Could you sign in so I can look it up?")
    screenshot(page, "agent-2-visitor-prompt")
    sign_in_in_popup(page, frame, "#prompt-signin-button", "vip")
    expect(frame.locator("#who")).to_have_text("Signed in as Vera VIP")
    expect(frame.locator("#signin-prompt")).to_be_hidden()

    expect(console.locator("#visitor-kind")).to_contain_text("Verified by JWT, ")
    expect(console.locator("#panel")).to_contain_text("Membership level")
    expect(console.locator("#panel")).to_contain_text("VIP")
    expect(console.locator("#panel")).to_contain_text("Vera VIP")
    expect(console.locator("#chat-group")).to_have_text("vip")
    expect(console.locator("#signin-request-button")).to_be_hidden()
    expect(console.locator("#survey")).to_contain_text("What is your question about?")
    expect(console.locator("#messages")).to_contain_text("moved the chat from group general to vip")
    expect(frame.locator("#messages")).to_contain_text("The visitor signed in as Vera VIP.")
    expect(frame.locator("#messages")).not_to_contain_text("moved the chat")
    screenshot(console, "agent-3-signed-in-panel")
    screenshot(page, "agent-4-visitor-after")
    console.click("#close-button")
    expect(frame.locator("#ended")).to_be_visible()
    expect(frame.locator("#composer")).to_be_hidden()
    screenshot(page, "agent-5-chat-ended")

    # Every message shows once, in both windows.
    expect(console.locator("#messages .msg.agent")).to_have_count(1)
    expect(frame.locator(".msg.agent")).to_have_count(1)
    expect(frame.locator(".msg.visitor")).to_have_count(1)
    assert Chat.objects.count() == 1
    assert Message.objects.filter(chat=chat, sender="visitor").count() == 1


def test_a_page_of_an_origin_the_site_does_not_list_cannot_frame_the_window(
    visitor_context: Any, world: World
) -> None:
    world.site.allowed_origins = "https://shop.example"
    world.site.save()
    page = visitor_context.new_page()
    page.goto(world.shop_url(world.optional))
    page.click("#sso-chat-button")
    page.wait_for_timeout(1500)

    frame = page.frame_locator("#sso-chat-frame")
    expect(frame.locator("#chat-config")).to_have_count(0)
    assert all("/chat/" not in f.url or f.url.startswith("chrome-error") for f in page.frames)


def test_a_reload_of_the_shop_page_keeps_the_chat(visitor_context: Any, world: World) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.none))
    frame.locator("#survey-topic").fill("Stoves")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("First message")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("First message")

    page.reload()
    page.click("#sso-chat-button")

    # Third-party storage is blocked too: the loader kept the token in the
    # shop page's own sessionStorage and handed it back to the new window.
    expect(frame.locator(".msg.visitor")).to_have_text("First message")
    expect(frame.locator("#conversation")).to_be_visible()
    assert Chat.objects.count() == 1


def test_a_popup_cut_off_by_the_host_pages_coop_hands_nothing_over(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.required, coop="1"))
    with page.expect_popup() as popup_info:
        frame.locator("#signin-button").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.evaluate("() => window.opener === null")
    popup.locator("#as-vip").click()

    expect(popup.locator("#no-opener")).to_be_visible()
    expect(popup.locator("#goes-on")).to_be_hidden()
    screenshot(popup, "coop-severed-popup")
    expect(frame.locator("#intro")).to_be_visible()
    expect(frame.locator("#who")).to_have_text("")
    assert not Chat.objects.exists()


def test_a_forged_host_jwt_is_refused_in_the_window(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.required, who="forger"))
    expect(frame.locator("#intro")).to_be_visible()

    page.click("#host-signin")

    expect(frame.locator("#error")).to_have_text(
        "The sign-in token's signature is not valid. (jwt_bad_signature)"
    )
    expect(frame.locator("#intro")).to_be_visible()
    expect(frame.locator("#who")).to_have_text("")
    screenshot(page, "jwt-handoff-refused")
    assert not Chat.objects.exists()
