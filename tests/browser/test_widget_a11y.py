"""The widget people would ship: keyboard and screen-reader use, a phone's
375-px screen, and axe-core (from the npm registry, injected into the page)
finding no serious or critical violation in the window and the console.
Screenshots: var/screenshots/widget-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from chats.models import Chat
from tests.browser.conftest import World
from tests.browser.test_chat_window import Shot, agent_console, chat_frame, open_window

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(frame_or_page: Any) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make setup runs npm ci in tests/browser)")
    frame_or_page.add_script_tag(path=str(AXE))
    result = frame_or_page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return list(result)


def test_the_window_works_by_keyboard_and_has_no_serious_axe_violation(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.optional))
    expect(page.locator("#sso-chat-button")).to_have_attribute("aria-expanded", "true")
    expect(frame.locator("#guest-button")).to_be_visible()
    window = chat_frame(page)
    assert serious_violations(window) == []
    # Keyboard only: Tab to "Chat as guest", Enter, fill the survey, Enter.
    frame.locator("#guest-button").focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#survey-topic")).to_be_focused()
    page.keyboard.type("Boots")
    page.keyboard.press("Enter")
    expect(frame.locator("#message-input")).to_be_focused()
    page.keyboard.type("Do you have size 46?")
    page.keyboard.press("Enter")
    expect(frame.locator(".msg.visitor")).to_have_text("Do you have size 46?")
    expect(frame.locator("#messages")).to_have_attribute("aria-live", "polite")
    expect(frame.locator("label[for='message-input']")).to_have_text("Your message")
    assert serious_violations(window) == []
    screenshot(page, "widget-desktop-chat")


def test_the_window_fills_a_375_px_phone_screen(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page = visitor_context.new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(world.shop_url(world.none))
    page.click("#sso-chat-button")
    frame = page.frame_locator("#sso-chat-frame")
    expect(frame.locator("#survey")).to_be_visible()
    box = page.locator("#sso-chat-frame").bounding_box()
    assert box is not None
    assert box["width"] == 375
    assert box["x"] == 0
    # Nothing in the window is wider than the screen.
    window = chat_frame(page)
    assert window.evaluate("() => document.documentElement.scrollWidth") <= 375
    assert serious_violations(window) == []
    screenshot(page, "widget-375px-survey")
    page.click("#sso-chat-button")  # the button stays reachable to close it
    expect(page.locator("#sso-chat-frame")).to_be_hidden()


def test_the_console_has_no_serious_axe_violation(
    visitor_context: Any, agent_browser: Any, world: World, screenshot: Shot
) -> None:
    _page, frame = open_window(visitor_context, world.shop_url(world.optional))
    frame.locator("#guest-button").click()
    frame.locator("#survey-topic").fill("Tents")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Hello")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Hello")
    chat = Chat.objects.get()
    console = agent_console(agent_browser, world)
    console.goto(f"{world.gateway}/console/")
    expect(console.locator(f"tr[data-chat='{chat.pk}'] .identity")).to_have_text(
        "Guest, unverified"
    )
    assert serious_violations(console) == []
    console.click(f"tr[data-chat='{chat.pk}'] a")
    expect(console.locator("#messages .msg.visitor")).to_have_text("Hello")
    assert serious_violations(console) == []
    screenshot(console, "widget-console-panel")
