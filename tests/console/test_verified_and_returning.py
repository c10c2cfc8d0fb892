"""Agents see who is verified and a returning visitor's earlier chats (this
site's only); a closed chat takes no sign-in request; visitors see the
campaign's display name, never its internal name.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from campaigns.models import Visitor
from campaigns.services import visitor_upsert
from chats.models import Message, SignInRequest
from chats.services import (
    ChatRefusedError,
    chat_attach_visitor,
    chat_close,
    chat_start,
    signin_request_create,
)
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns

SignedInClient = Callable[[Agent], Client]


def visitor_of(site: Site, external_id: str = "cust-1", protocol: str = "saml") -> Visitor:
    return visitor_upsert(
        site=site,
        external_id=external_id,
        protocol=protocol,
        fields={"name": "Vera Visitor", "email": "vera@shop.example"},
        custom={},
    )


def test_the_list_and_the_panel_say_who_is_verified_by_which_protocol_and_when(
    agent: Agent, signed_in_client: SignedInClient, campaigns: Campaigns
) -> None:
    guest = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    signed = chat_start(site=agent.site, campaign=campaigns.none, visitor=visitor_of(agent.site))
    client = signed_in_client(agent)

    listed = {c["id"]: c for c in client.get("/console/chats.json").json()["chats"]}
    page = client.get("/console/").content.decode()
    panel = client.get(f"/console/chats/{signed.pk}/").content.decode()

    assert listed[guest.pk]["verified"] is None
    assert listed[signed.pk]["verified"]["protocol"] == "SAML 2.0"
    assert listed[signed.pk]["verified"]["label"].startswith("Verified by SAML 2.0, 20")
    assert "Guest, unverified" in page
    assert "Verified (SAML 2.0)" in page
    assert "Verified by SAML 2.0, " in panel


def test_a_returning_visitor_s_earlier_chats_show_in_the_panel_for_this_site_only(
    agent: Agent,
    other_site: Site,
    signed_in_client: SignedInClient,
    campaigns: Campaigns,
) -> None:
    site = agent.site
    vera = visitor_of(site)
    first = chat_start(site=site, campaign=campaigns.none, visitor=vera)
    chat_close(site=site, chat=first, agent=agent)
    # The same external ID on another site is another person: not shown.
    other_vera = visitor_of(other_site)
    chat_start(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=other_vera
    )
    stranger = chat_start(site=site, campaign=campaigns.none, visitor=visitor_of(site, "cust-2"))
    # A guest who signs in mid-chat becomes Vera: the chat goes on, history appears.
    now = chat_start(site=site, campaign=campaigns.optional, visitor=None)
    Message.objects.create(site=site, chat=now, sender="visitor", text="Hello again")
    client = signed_in_client(agent)
    assert client.get(f"/console/chats/{now.pk}/poll/").json()["history"] == []

    chat_attach_visitor(site=site, chat=now, visitor=vera)

    history = client.get(f"/console/chats/{now.pk}/poll/").json()["history"]
    assert [h["id"] for h in history] == [first.pk]
    assert history[0]["status"] == "Closed"
    assert Message.objects.filter(chat=now, text="Hello again").exists()
    assert client.get(f"/console/chats/{stranger.pk}/poll/").json()["history"] == []
    page = client.get(f"/console/chats/{now.pk}/").content.decode()
    assert f'href="/console/chats/{first.pk}/"' in page


def test_a_closed_chat_takes_no_sign_in_request(
    agent: Agent, signed_in_client: SignedInClient, campaigns: Campaigns
) -> None:
    chat = chat_start(site=agent.site, campaign=campaigns.optional, visitor=None)
    chat_close(site=agent.site, chat=chat, agent=agent)
    client = signed_in_client(agent)

    page = client.get(f"/console/chats/{chat.pk}/").content.decode()
    response = client.post(f"/console/chats/{chat.pk}/signin-request/")

    assert 'id="signin-request-button" hidden' in page
    assert response.status_code == 409
    assert response.json() == {"error": "chat_closed"}
    assert not SignInRequest.objects.exists()
    with pytest.raises(ChatRefusedError) as refused:
        signin_request_create(site=agent.site, chat=chat, agent=agent)
    assert refused.value.reason == RefusalReason.CHAT_CLOSED


def test_the_window_shows_the_display_name_never_the_internal_name(
    client: Client, site: Site, campaigns: Campaigns
) -> None:
    campaigns.none.name = "Q3 upsell test B (internal)"
    campaigns.none.display_name = "Ask the trail team"
    campaigns.none.save()
    url = f"/chat/{site.site_id}/{campaigns.none.pk}/"

    page = client.get(url).content.decode()
    assert "Ask the trail team" in page
    assert "Q3 upsell" not in page

    campaigns.none.display_name = ""
    campaigns.none.save()
    page = client.get(url).content.decode()
    assert f"Chat with {site.name}" in page
    assert "Q3 upsell" not in page
