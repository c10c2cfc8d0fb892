"""The console's push in Chromium: with the stream server (chats.stream, a
real uvicorn process on the real Redis) the console's open chat stops its
1.2-s poll, and the visitor's message, typing and "Seen" still show within
2 s: with the safety poll set to ten minutes, only the push can explain it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from chats.models import Chat, Message
from chats.presence import chat_typing_set
from chats.services import chat_read_mark, chat_start, message_post
from tests.browser.conftest import World, streams_open
from tests.browser.test_chat_window import agent_console

pytestmark = pytest.mark.browser


def test_the_visitors_message_typing_and_seen_reach_the_console_by_push(
    agent_browser: Any, world: World, stream: str
) -> None:
    site, agent = world.site, world.agent
    chat = chat_start(site=site, campaign=world.none, visitor=None)
    message_post(site=site, chat=chat, sender=Message.Sender.VISITOR, text="Any tents left?")

    console = agent_console(agent_browser, world)
    polls: list[float] = []
    console.on(
        "request",
        lambda request: polls.append(time.monotonic()) if "/poll/" in request.url else None,
    )
    console.goto(f"{world.gateway}/console/chats/{chat.pk}/")
    expect(console.locator("#messages .msg.visitor")).to_have_text("Any tents left?")
    for _ in range(50):
        if streams_open(stream) == 1:
            break
        console.wait_for_timeout(100)
    assert streams_open(stream) == 1

    # The stream is open: no fast poll any more (it would poll every 1.2 s).
    console.wait_for_timeout(1000)
    quiet_from = time.monotonic()
    console.wait_for_timeout(3500)
    assert [t for t in polls if t > quiet_from] == []

    sent = time.monotonic()
    message_post(site=site, chat=chat, sender=Message.Sender.VISITOR, text="A 2-person one.")
    expect(console.locator("#messages .msg.visitor").last).to_have_text(
        "A 2-person one.", timeout=2000
    )
    assert time.monotonic() - sent < 2.0

    chat_typing_set(site=site, chat=chat, side=Message.Sender.VISITOR)
    expect(console.locator("#visitor-typing")).to_have_text("The visitor is typing…", timeout=2000)

    answer = message_post(
        site=site, chat=chat, sender=Message.Sender.AGENT, text="Yes, two left.", agent=agent
    )
    assert answer is not None
    expect(console.locator("#messages .msg.agent")).to_have_text("Yes, two left.", timeout=2000)
    chat_read_mark(
        site=site, chat=Chat.objects.get(pk=chat.pk), side="visitor", message_id=answer.pk
    )
    expect(console.locator("#seen")).to_have_text("Seen", timeout=2000)
    # A handful of changes, a handful of polls (and not a fast pace).
    assert len([t for t in polls if t > quiet_from]) <= 8


def test_without_a_stream_server_the_console_polls_at_its_full_pace(
    agent_browser: Any, world: World
) -> None:
    site = world.site
    chat = chat_start(site=site, campaign=world.none, visitor=None)
    with override_settings(SSO_CHAT_STREAM="http://127.0.0.1:9", SSO_CHAT_SAFETY_POLL_S=600):
        console = agent_console(agent_browser, world)
        console.goto(f"{world.gateway}/console/chats/{chat.pk}/")
        message_post(site=site, chat=chat, sender=Message.Sender.VISITOR, text="Hello?")
        expect(console.locator("#messages .msg.visitor")).to_have_text("Hello?", timeout=3000)


def test_a_new_chat_reaches_the_console_list_by_push(
    agent_browser: Any, world: World, stream: str
) -> None:
    console = agent_console(agent_browser, world)
    refreshes: list[float] = []
    console.on(
        "request",
        lambda request: refreshes.append(time.monotonic()) if "chats.json" in request.url else None,
    )
    console.goto(f"{world.gateway}/console/")
    for _ in range(50):
        if streams_open(stream) == 1:
            break
        console.wait_for_timeout(100)
    assert streams_open(stream) == 1
    # The stream is open: no 2-s refresh any more.
    console.wait_for_timeout(500)
    quiet_from = time.monotonic()
    console.wait_for_timeout(2500)
    assert [t for t in refreshes if t > quiet_from] == []
    sent = time.monotonic()
    chat = chat_start(site=world.site, campaign=world.none, visitor=None)
    expect(console.locator(f'tr[data-chat="{chat.pk}"]')).to_be_visible(timeout=2000)
    assert time.monotonic() - sent < 2.0
