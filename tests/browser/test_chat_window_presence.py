"""What the visitor and the agent see of each other in Chromium: the agent
typing, "Seen" both ways, and a host page's sign-out that leaves nothing of
the previous person, even to a replayed token.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from chats.models import Chat
from tests.browser.conftest import World
from tests.browser.test_chat_window import Shot, agent_console, open_window

pytestmark = pytest.mark.browser


def test_the_visitor_sees_the_agent_typing_and_each_side_sees_seen(
    visitor_context: Any, agent_browser: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.none))
    frame.locator("#survey-topic").fill("Stoves")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Which stove for winter?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Which stove for winter?")
    expect(frame.locator("#seen")).to_have_text("")
    chat = Chat.objects.get()

    console = agent_console(agent_browser, world)
    console.goto(f"{world.gateway}/console/chats/{chat.pk}/")
    expect(console.locator("#messages .msg.visitor")).to_have_text("Which stove for winter?")
    # The agent's console showed the message: the visitor sees "Seen".
    expect(frame.locator("#seen")).to_have_text("Seen")
    expect(frame.locator("#seen")).to_have_attribute("role", "status")

    console.locator("#reply-input").press_sequentially("A gas one", delay=30)
    expect(frame.locator("#typing")).to_have_text("The agent is typing…")
    expect(frame.locator("#typing")).to_have_attribute("aria-live", "polite")
    screenshot(page, "presence-1-agent-typing")
    console.click("#reply-button")
    expect(frame.locator(".msg.agent")).to_have_text("A gas one")
    expect(frame.locator("#typing")).to_have_text("")
    expect(frame.locator("#seen")).to_have_text("")  # an answer says more than "Seen"

    # The window is open and on screen: the visitor read the answer.
    expect(console.locator("#seen")).to_have_text("Seen")
    frame.locator("#message-input").press_sequentially("Thanks", delay=30)
    expect(console.locator("#visitor-typing")).to_have_text("The visitor is typing…")
    screenshot(console, "presence-2-console-seen-typing")
    chat.refresh_from_db()
    assert chat.visitor_read_id >= chat.agent_read_id > 0


def test_a_closed_window_reads_nothing_until_it_is_opened(
    visitor_context: Any, agent_browser: Any, world: World
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.none))
    frame.locator("#survey-topic").fill("Boots")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Size 46?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Size 46?")
    page.click("#sso-chat-button")  # the visitor closes the window
    chat = Chat.objects.get()
    console = agent_console(agent_browser, world)
    console.goto(f"{world.gateway}/console/chats/{chat.pk}/")
    console.fill("#reply-input", "Yes, in stock.")
    console.click("#reply-button")
    expect(frame.locator(".msg.agent")).to_have_text("Yes, in stock.")  # arrived, not seen

    page.wait_for_timeout(2500)  # a few polls of both sides
    expect(console.locator("#seen")).to_have_text("")
    page.click("#sso-chat-button")
    expect(console.locator("#seen")).to_have_text("Seen")


def test_after_sign_out_the_window_shows_no_earlier_chat_even_to_a_replayed_token(
    visitor_context: Any, world: World, screenshot: Shot
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.required, who="host"))
    page.click("#host-signin")
    expect(frame.locator("#who")).to_have_text("Signed in as Hana Host")
    frame.locator("#message-input").fill("My address is 1 Main St")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("My address is 1 Main St")
    key = f"sso-chat:{world.site.site_id}:{world.required.pk}"
    old = page.evaluate("k => sessionStorage.getItem(k)", key)
    assert old

    page.evaluate("() => window.SsoChat.signOut()")

    expect(frame.locator("#signin-button")).to_be_visible()
    expect(frame.locator(".msg")).to_have_count(0)
    expect(frame.locator("#who")).to_have_text("")
    assert Chat.objects.get().status == Chat.Status.CLOSED

    # The previous person's token, put back where the loader keeps it, is
    # refused by the gateway: a reload shows a fresh window.
    page.evaluate("([k, t]) => sessionStorage.setItem(k, t)", [key, old])
    refused: list[int] = []
    page.on("response", lambda r: refused.append(r.status) if "/api/state/" in r.url else None)
    page.reload()
    page.click("#sso-chat-button")
    expect(frame.locator("#signin-button")).to_be_visible()
    page.wait_for_timeout(1000)
    expect(frame.locator(".msg")).to_have_count(0)
    expect(frame.locator("#who")).to_have_text("")
    assert 401 in refused
    screenshot(page, "presence-3-after-sign-out")
