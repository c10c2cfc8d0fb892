"""Typing and "Seen": the agent's typing shows in the window, the visitor's
in the console (short-lived flags in Redis); each side's read mark is the
last message it has read, and the other side sees "Seen".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from chats.models import Chat, Message
from chats.presence import chat_typing
from tenants.models import Agent
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns, WindowClient

SignedInClient = Callable[[Agent], Client]
Capture = Callable[..., Any]


@pytest.fixture
def window(campaigns: Campaigns) -> WindowClient:
    window = WindowClient(Client(), campaigns.none)
    window.post("start/", {"survey": {}})
    window.post("send/", {"text": "Hello?"})
    return window


def full_poll(window: WindowClient) -> tuple[dict[str, Any], str]:
    response = window.get("poll/", after=0, v="")
    assert response.status_code == 200
    return response.json(), response["X-Chat-Version"]


def test_the_agents_typing_ends_the_windows_quiet_polls_and_shows_until_the_message(
    window: WindowClient,
    agent: Agent,
    signed_in_client: SignedInClient,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    chat = Chat.objects.get()
    first, version = full_poll(window)
    assert first["agent_typing"] is False
    assert window.get("poll/", after=0, v=version).status_code == 204
    console = signed_in_client(agent)

    with django_capture_on_commit_callbacks(execute=True):
        assert console.post(f"/console/chats/{chat.pk}/typing/").status_code == 200

    typing = window.get("poll/", after=0, v=version)
    assert typing.status_code == 200  # not "nothing new": the window must show it
    assert typing.json()["agent_typing"] is True
    with django_capture_on_commit_callbacks(execute=True):
        console.post(f"/console/chats/{chat.pk}/send/", {"text": "Here I am."})
    answered = window.get("poll/", after=0, v=typing["X-Chat-Version"])
    assert answered.json()["agent_typing"] is False
    assert answered.json()["messages"][-1]["text"] == "Here I am."


def test_the_visitors_typing_shows_in_the_console_until_they_send(
    window: WindowClient, agent: Agent, signed_in_client: SignedInClient
) -> None:
    chat = Chat.objects.get()
    console = signed_in_client(agent)
    poll = f"/console/chats/{chat.pk}/poll/"
    assert console.get(poll).json()["visitor_typing"] is False

    assert window.post("typing/").status_code == 200

    assert console.get(poll).json()["visitor_typing"] is True
    window.post("send/", {"text": "One more thing"})
    assert console.get(poll).json()["visitor_typing"] is False
    assert not chat_typing(chat=chat, side=Message.Sender.VISITOR)


def test_typing_before_a_chat_is_refused_with_its_reason(campaigns: Campaigns) -> None:
    response = WindowClient(Client(), campaigns.none).post("typing/")
    assert response.status_code == 409
    assert response.json() == {"error": "no_chat"}


def test_the_visitors_read_mark_shows_seen_to_the_agent_and_only_moves_forward(
    window: WindowClient, agent: Agent, signed_in_client: SignedInClient
) -> None:
    chat = Chat.objects.get()
    console = signed_in_client(agent)
    console.post(f"/console/chats/{chat.pk}/send/", {"text": "First answer"})
    console.post(f"/console/chats/{chat.pk}/send/", {"text": "Second answer"})
    answers = list(
        Message.objects.filter(chat=chat, sender=Message.Sender.AGENT).values_list("pk", flat=True)
    )
    poll = f"/console/chats/{chat.pk}/poll/"
    assert console.get(poll).json()["visitor_read"] == 0

    assert window.post("seen/", {"id": answers[1]}).json() == {"read": answers[1]}
    assert console.get(poll).json()["visitor_read"] == answers[1]

    assert window.post("seen/", {"id": answers[0]}).json() == {"read": answers[1]}
    chat.refresh_from_db()
    assert chat.visitor_read_id == answers[1]
    assert chat.agent_read_id == 0  # the other side's mark is its own


def test_a_read_mark_names_a_message_of_its_own_chat_only(
    window: WindowClient, agent: Agent, campaigns: Campaigns, other_site: Any
) -> None:
    other = WindowClient(Client(), campaigns.optional)
    other.post("start/", {"survey": {}})
    other.post("send/", {"text": "Another chat"})
    foreign = Message.objects.filter(text="Another chat").get().pk
    b_campaign = CampaignFactory.create(site=other_site)
    b_window = WindowClient(Client(), b_campaign)
    b_window.post("start/", {"survey": {}})
    b_window.post("send/", {"text": "Site B"})
    other_sites = Message.objects.filter(text="Site B").get().pk

    assert window.post("seen/", {"id": foreign}).json() == {"read": 0}
    assert window.post("seen/", {"id": other_sites}).json() == {"read": 0}
    assert window.post("seen/", {"id": 10**12}).json() == {"read": 0}
    bad = window.post("seen/", {"id": "1e3"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "bad_integer"}
    assert Chat.objects.get(pk=window_chat(window)).visitor_read_id == 0


def window_chat(window: WindowClient) -> int:
    chat: int = window.get("state/").json()["chat"]
    return chat


def test_the_agents_read_mark_reaches_the_window_at_its_next_poll(
    window: WindowClient,
    agent: Agent,
    signed_in_client: SignedInClient,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    chat = Chat.objects.get()
    first, version = full_poll(window)
    asked = first["messages"][-1]["id"]
    assert first["agent_read"] == 0
    console = signed_in_client(agent)

    with django_capture_on_commit_callbacks(execute=True):
        marked = console.post(f"/console/chats/{chat.pk}/seen/", {"id": asked})
    assert marked.json() == {"read": asked}

    seen = window.get("poll/", after=asked, v=version)
    assert seen.status_code == 200
    assert seen.json()["agent_read"] == asked
    # Marking it again changes nothing: the window's quiet polls stay quiet.
    with django_capture_on_commit_callbacks(execute=True):
        console.post(f"/console/chats/{chat.pk}/seen/", {"id": asked})
    assert window.get("poll/", after=asked, v=seen["X-Chat-Version"]).status_code == 204


def test_an_agent_marks_read_only_their_own_sites_chats(
    window: WindowClient, other_agent: Agent, signed_in_client: SignedInClient
) -> None:
    chat = Chat.objects.get()
    message = Message.objects.filter(chat=chat).last()
    assert message is not None
    console = signed_in_client(other_agent)
    assert console.post(f"/console/chats/{chat.pk}/seen/", {"id": message.pk}).status_code == 404
    assert console.post(f"/console/chats/{chat.pk}/typing/").status_code == 404
    chat.refresh_from_db()
    assert chat.agent_read_id == 0
    assert not chat_typing(chat=chat, side=Message.Sender.AGENT)
