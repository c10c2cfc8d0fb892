"""The agent console's push stream (chats.stream) on a real uvicorn process
with the real Redis: the console gives a short-lived ticket for a chat of the
agent's own site, the stream server checks the ticket alone and refuses a
forged, expired or misplaced one by reason code; a console hears the chat's
changes and the visitor's typing and "seen", which the windows do not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core import signing
from django.test import Client, override_settings

from chats.live import chat_version_current, chat_version_is
from chats.models import Chat, Message
from chats.presence import chat_typing_set
from chats.services import chat_accept, chat_close, chat_read_mark, chat_start, message_post
from chats.tokens import CONSOLE_TICKET_MAX_AGE, CONSOLE_TICKET_SALT
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.chats.test_stream import Events, assert_refused, started, stream_url
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns
from tests.ops.servers import production_stack, server_env, stream_server

pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.slow]

SignedInClient = Callable[[Agent], Client]


@pytest.fixture
def stream() -> Iterator[str]:
    with stream_server(server_env()) as url, override_settings(SSO_CHAT_STREAM=url):
        yield url


def ticket_url(client: Client, chat: Chat) -> str:
    response = client.get(f"/console/chats/{chat.pk}/stream-ticket/")
    assert response.status_code == 200, response.content
    url: str = response.json()["url"]
    return url


def signed(agent_pk: int, site_pk: int, chat_pk: int) -> str:
    """A ticket signed with the real key, naming whatever the test says."""
    payload = {"a": agent_pk, "s": site_pk, "ch": chat_pk}
    return signing.dumps(payload, salt=CONSOLE_TICKET_SALT, compress=False)


def console_url(base: str, chat_pk: int, ticket: str) -> str:
    return f"{base}/console/chats/{chat_pk}/stream/?t={ticket}"


def test_an_agent_gets_tickets_for_their_own_sites_chats_only(
    agent: Agent,
    other_site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    mine = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    theirs = chat_start(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=None
    )
    client = signed_in_client(agent)
    with override_settings(SSO_CHAT_STREAM="https://stream.example.com"):
        url = ticket_url(client, mine)
        assert url.startswith(f"https://stream.example.com/console/chats/{mine.pk}/stream/?t=")
        assert client.get(f"/console/chats/{theirs.pk}/stream-ticket/").status_code == 404
        # The console's page lets its script connect to the stream's origin.
        page = client.get(f"/console/chats/{mine.pk}/")
        assert "https://stream.example.com" in page["Content-Security-Policy"]
    with override_settings(SSO_CHAT_STREAM="off"):  # no stream server: the console polls
        response = client.get(f"/console/chats/{mine.pk}/stream-ticket/")
        assert (response.status_code, response.json()) == (404, {"error": "no_stream"})
    # Signed out: no ticket at all.
    assert Client().get(f"/console/chats/{mine.pk}/stream-ticket/").status_code in (302, 403)


def test_the_stream_refuses_a_ticket_that_is_forged_expired_or_misplaced(
    stream: str,
    agent: Agent,
    other_agent: Agent,
    site: Site,
    other_site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    mine = chat_start(site=site, campaign=campaigns.none, visitor=None)
    second = chat_start(site=site, campaign=campaigns.none, visitor=None)
    theirs = chat_start(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=None
    )
    url = ticket_url(signed_in_client(agent), mine)
    ticket = url.split("?t=")[1]
    events = Events(url)  # a genuine ticket opens the stream
    events.close()

    # Forged, missing, or a window's chat token (another salt).
    assert_refused(console_url(stream, mine.pk, "x" + ticket), RefusalReason.CHAT_BAD_TOKEN)
    assert_refused(console_url(stream, mine.pk, ""), RefusalReason.CHAT_BAD_TOKEN)
    window = started(campaigns.none)
    assert_refused(console_url(stream, mine.pk, window.token), RefusalReason.CHAT_BAD_TOKEN)
    # Expired: issued longer ago than a ticket lives (a minute).
    past = time.time() - CONSOLE_TICKET_MAX_AGE - 5
    with mock.patch("django.core.signing.time.time", return_value=past):
        old = signed(agent.pk, site.pk, mine.pk)
    assert_refused(console_url(stream, mine.pk, old), RefusalReason.CHAT_BAD_TOKEN)
    # A genuine ticket at another chat's URL.
    assert_refused(console_url(stream, second.pk, ticket), RefusalReason.CHAT_BAD_TOKEN)
    # Another site's chat named by this site's agent: no such chat here.
    assert_refused(
        console_url(stream, theirs.pk, signed(agent.pk, site.pk, theirs.pk)),
        RefusalReason.CHAT_NOT_FOUND,
    )
    # Site A's chat named by site B's agent (with either site).
    assert_refused(
        console_url(stream, mine.pk, signed(other_agent.pk, other_site.pk, mine.pk)),
        RefusalReason.CHAT_NOT_FOUND,
    )
    assert_refused(
        console_url(stream, mine.pk, signed(other_agent.pk, site.pk, mine.pk)),
        RefusalReason.AGENT_INACTIVE,
    )
    # The agent was deactivated since: refused at the next (re)connection.
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert_refused(console_url(stream, mine.pk, ticket), RefusalReason.AGENT_INACTIVE)


def test_the_console_hears_the_visitors_message_typing_and_seen_and_windows_only_messages(
    stream: str,
    agent: Agent,
    site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    window = started(campaigns.none)
    chat = Chat.objects.get()
    console = Events(ticket_url(signed_in_client(agent), chat))
    in_window = Events(stream_url(stream, campaigns.none, window.token))
    other_chat = chat_start(site=site, campaign=campaigns.none, visitor=None)
    bystander = Events(ticket_url(signed_in_client(agent), other_chat))
    where = {"site_id": site.site_id, "campaign_pk": campaigns.none.pk, "chat_pk": chat.pk}
    try:
        time.sleep(0.3)  # the stream server subscribed
        # The visitor writes: both hear it.
        sent = time.monotonic()
        assert window.post("send/", {"text": "Hello"}).status_code == 200
        assert console.next_data(2.0) == "changed"
        assert time.monotonic() - sent < 2.0
        assert in_window.next_data(2.0) == "changed"
        # The visitor types: the console hears it; the window does not, and
        # its "nothing new" poll stays nothing new (the version is kept).
        version = chat_version_current(**where)
        chat_typing_set(site=site, chat=chat, side=Message.Sender.VISITOR)
        assert console.next_data(2.0) == "changed"
        assert in_window.next_data(1.0) is None
        assert chat_version_is(**where, version=version)
        # The visitor read the agent's answer: "Seen" in the console only.
        answer = message_post(
            site=site, chat=chat, sender=Message.Sender.AGENT, text="Hi!", agent=agent
        )
        assert answer is not None
        assert console.next_data(2.0) == "changed"
        assert in_window.next_data(2.0) == "changed"
        version = chat_version_current(**where)
        chat_read_mark(site=site, chat=chat, side=Message.Sender.VISITOR, message_id=answer.pk)
        assert console.next_data(2.0) == "changed"
        assert in_window.next_data(1.0) is None
        assert chat_version_is(**where, version=version)
        # Another chat's console heard none of it.
        assert bystander.next_data(0.5) is None
    finally:
        for each in (console, in_window, bystander):
            each.close()


def test_behind_nginx_the_console_gets_its_stream_on_its_own_origin(
    tmp_path: Path,
    agent: Agent,
    site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    """``make serve``: the ticket names the stream on the gateway's origin,
    and nginx passes each event on at once."""
    chat = chat_start(site=site, campaign=campaigns.none, visitor=None)
    with (
        production_stack(server_env(), tmp_path, workers=1) as base,
        override_settings(SSO_CHAT_STREAM="self"),
    ):
        url = ticket_url(signed_in_client(agent), chat)
        assert url.startswith(f"/console/chats/{chat.pk}/stream/?t=")
        events = Events(f"{base}{url}")
        try:
            time.sleep(0.3)
            chat_typing_set(site=site, chat=chat, side=Message.Sender.VISITOR)
            assert events.next_data(2.0) == "changed"
        finally:
            events.close()
        assert_refused(
            f"{base}/console/chats/{chat.pk}/stream/?t=forged", RefusalReason.CHAT_BAD_TOKEN
        )


def test_the_chat_list_hears_its_own_sites_chats_arrive_and_end(
    stream: str,
    agent: Agent,
    site: Site,
    other_site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    client = signed_in_client(agent)
    response = client.get("/console/stream-ticket/")
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith(f"{stream}/console/stream/?t=")
    ticket = url.split("?t=")[1]
    mine = chat_start(site=site, campaign=campaigns.none, visitor=None)
    # A list ticket opens no chat's stream, a chat's ticket no list.
    assert_refused(console_url(stream, mine.pk, ticket), RefusalReason.CHAT_BAD_TOKEN)
    assert_refused(f"{stream}/console/chats/0/stream/?t={ticket}", RefusalReason.CHAT_NOT_FOUND)
    chat_ticket = ticket_url(client, mine).split("?t=")[1]
    assert_refused(f"{stream}/console/stream/?t={chat_ticket}", RefusalReason.CHAT_BAD_TOKEN)
    assert_refused(f"{stream}/console/stream/?t=x{ticket}", RefusalReason.CHAT_BAD_TOKEN)

    listing = Events(url)
    try:
        time.sleep(0.3)
        chat_start(site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=None)
        assert listing.next_data(1.0) is None  # another site's chat
        sent = time.monotonic()
        arrived = chat_start(site=site, campaign=campaigns.none, visitor=None)
        assert listing.next_data(2.0) == "changed"
        assert time.monotonic() - sent < 2.0
        chat_accept(site=site, chat=arrived, agent=agent)
        assert listing.next_data(2.0) == "changed"
        chat_close(site=site, chat=arrived, agent=agent)
        assert listing.next_data(2.0) == "changed"
        # A message in a listed chat changes nothing in the list.
        message_post(site=site, chat=mine, sender=Message.Sender.VISITOR, text="Hi")
        assert listing.next_data(1.0) is None
    finally:
        listing.close()
