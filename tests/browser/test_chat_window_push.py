"""The window's push in Chromium: with the stream server (chats.stream, a
real uvicorn process on the real Redis) the window stops its fast poll, and
an agent's typing, message and "Seen" still show within 2 s: with the safety
poll set to ten minutes, only the push can explain it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from chats.models import Chat, Message
from chats.presence import chat_typing_set
from chats.services import chat_read_mark, message_post
from tests.browser.conftest import World, streams_open
from tests.browser.test_chat_window import open_window

pytestmark = pytest.mark.browser


def test_the_agents_typing_message_and_seen_arrive_by_push(
    visitor_context: Any, world: World, stream: str
) -> None:
    page, frame = open_window(visitor_context, world.shop_url(world.none))
    polls: list[float] = []
    page.on(
        "request",
        lambda request: polls.append(time.monotonic()) if "/api/poll/" in request.url else None,
    )
    frame.locator("#survey-topic").fill("Tents")
    frame.locator("#survey-submit").click()
    frame.locator("#message-input").fill("Is the 2-person tent waterproof?")
    frame.locator("#send-button").click()
    expect(frame.locator(".msg.visitor")).to_have_text("Is the 2-person tent waterproof?")
    for _ in range(50):
        if streams_open(stream) == 1:
            break
        page.wait_for_timeout(100)
    assert streams_open(stream) == 1

    # The stream is open: no fast poll any more (it would poll every 1.5 s).
    page.wait_for_timeout(1000)
    quiet_from = time.monotonic()
    page.wait_for_timeout(3500)
    assert [t for t in polls if t > quiet_from] == []

    chat = Chat.objects.get()
    site, agent = world.site, world.agent
    chat_typing_set(site=site, chat=chat, side=Message.Sender.AGENT)
    expect(frame.locator("#typing")).to_have_text("The agent is typing…", timeout=2000)

    visitor_message = chat.messages.get()
    chat_read_mark(site=site, chat=chat, side=Message.Sender.AGENT, message_id=visitor_message.pk)
    expect(frame.locator("#seen")).to_have_text("Seen", timeout=2000)

    sent = time.monotonic()
    message_post(
        site=site, chat=chat, sender=Message.Sender.AGENT, text="Yes, 3000 mm.", agent=agent
    )
    expect(frame.locator(".msg.agent")).to_have_text("Yes, 3000 mm.", timeout=2000)
    assert time.monotonic() - sent < 2.0
    # Three changes, three polls (and not a fast pace).
    assert len([t for t in polls if t > quiet_from]) <= 4
