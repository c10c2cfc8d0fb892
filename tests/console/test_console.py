"""The agent console's chats: own site only, replies, sign-in requests, panel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from campaigns.services import visitor_upsert
from chats.models import Chat, Message, SignInRequest
from chats.services import chat_attach_visitor, chat_start
from mapping.models import CustomVariable
from tenants.models import Agent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns, WindowClient

SignedInClient = Callable[[Agent], Client]


@pytest.fixture
def b_chat(other_site: Site) -> Chat:
    chat = chat_start(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=None
    )
    Message.objects.create(site=other_site, chat=chat, sender="visitor", text="B's secret")
    return chat


def test_console_lists_only_the_agents_site_chats(
    agent: Agent, signed_in_client: SignedInClient, campaigns: Campaigns, b_chat: Chat
) -> None:
    mine = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    client = signed_in_client(agent)

    page = client.get("/console/").content.decode()
    listed = client.get("/console/chats.json").json()["chats"]

    assert f'data-chat="{mine.pk}"' in page
    assert f'data-chat="{b_chat.pk}"' not in page
    assert [c["id"] for c in listed] == [mine.pk]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/console/chats/{pk}/"),
        ("get", "/console/chats/{pk}/poll/"),
        ("post", "/console/chats/{pk}/send/"),
        ("post", "/console/chats/{pk}/accept/"),
        ("post", "/console/chats/{pk}/signin-request/"),
        ("post", "/console/chats/{pk}/close/"),
    ],
)
def test_an_agent_never_opens_another_sites_chat(
    agent: Agent, signed_in_client: SignedInClient, b_chat: Chat, method: str, path: str
) -> None:
    client = signed_in_client(agent)
    response = getattr(client, method)(path.format(pk=b_chat.pk), {"text": "hi"})
    assert response.status_code == 404
    assert "B's secret" not in response.content.decode()
    b_chat.refresh_from_db()
    assert b_chat.agent is None
    assert b_chat.status == Chat.Status.WAITING
    assert not SignInRequest.objects.exists()
    assert Message.objects.filter(chat=b_chat).count() == 1


def test_anonymous_cannot_use_the_console_endpoints(client: Client, b_chat: Chat) -> None:
    assert client.get(f"/console/chats/{b_chat.pk}/poll/").status_code == 302
    assert client.post(f"/console/chats/{b_chat.pk}/send/", {"text": "x"}).status_code == 302
    assert Message.objects.filter(chat=b_chat).count() == 1


def test_agent_and_visitor_exchange_messages_and_the_sign_in_request(
    client: Client,
    agent: Agent,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
    vip_routing: CustomVariable,
) -> None:
    window = WindowClient(Client(), campaigns.optional)
    window.post("start/", {"survey": {"topic": "Warranty"}})
    window.post("send/", {"text": "Is my tent covered?"})
    chat = Chat.objects.get()
    console = signed_in_client(agent)

    console.post(f"/console/chats/{chat.pk}/send/", {"text": "Let me check."})
    console.post(f"/console/chats/{chat.pk}/signin-request/")
    seen = window.get("poll/").json()
    guest_panel = console.get(f"/console/chats/{chat.pk}/poll/").json()

    assert [m["text"] for m in seen["messages"] if m["sender"] != "system"] == [
        "Is my tent covered?",
        "Let me check.",
    ]
    assert seen["signin_requested"] is True
    assert guest_panel["panel"] == []
    assert guest_panel["survey"] == [{"label": "What is it about?", "value": "Warranty"}]
    assert guest_panel["chat"]["agent"] == str(agent)

    visitor = visitor_upsert(
        site=agent.site,
        external_id="v-9",
        protocol="jwt",
        fields={"name": "Vera Visitor"},
        custom={"membership_level": "VIP", "internal_score": 3},
    )
    chat_attach_visitor(site=agent.site, chat=chat, visitor=visitor)
    panel = console.get(f"/console/chats/{chat.pk}/poll/").json()

    visitor_view = window.get("poll/").json()
    assert visitor_view["signin_requested"] is False
    assert "The visitor signed in as Vera Visitor." in str(visitor_view["messages"])
    assert "moved the chat" not in str(visitor_view["messages"])  # the note is the agents'
    assert panel["messages"][-1]["sender"] == "note"
    assert panel["chat"]["signed_in"] is True
    assert panel["chat"]["group"] == "vip"
    assert {"label": "Membership level", "value": "VIP"} in panel["panel"]
    assert "Internal score" not in str(panel["panel"])
    assert "moved the chat from group general to vip" in panel["messages"][-1]["text"]
    assert console.post(f"/console/chats/{chat.pk}/signin-request/").status_code == 409


def test_agent_ends_the_chat_and_the_window_may_start_a_new_one(
    agent: Agent, signed_in_client: SignedInClient, campaigns: Campaigns
) -> None:
    window = WindowClient(Client(), campaigns.none)
    window.post("start/", {"survey": {}})
    first = Chat.objects.get()
    console = signed_in_client(agent)

    assert console.post(f"/console/chats/{first.pk}/close/").status_code == 200

    seen = window.get("poll/").json()
    assert seen["status"] == "closed"
    assert seen["messages"][-1]["text"] == "The chat has ended."
    assert window.post("send/", {"text": "too late"}).json() == {"id": None}
    assert console.get("/console/chats.json").json()["chats"] == []
    again = window.post("start/", {"survey": {}})
    assert again.json()["chat"] != first.pk
    assert Chat.objects.filter(status="waiting").count() == 1


def test_chats_of_the_agents_group_come_first(
    agent: Agent, signed_in_client: SignedInClient, campaigns: Campaigns
) -> None:
    general = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    vip = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    Chat.objects.filter(pk=vip.pk).update(group="vip")
    client = signed_in_client(agent)
    assert [c["id"] for c in client.get("/console/chats.json").json()["chats"]] == [
        general.pk,
        vip.pk,
    ]
    Agent.objects.filter(pk=agent.pk).update(department="VIP")
    assert [c["id"] for c in client.get("/console/chats.json").json()["chats"]] == [
        vip.pk,
        general.pk,
    ]
