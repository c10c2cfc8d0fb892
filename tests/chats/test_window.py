"""The chat window over HTTP: framing headers, the token-authenticated JSON
endpoints, the sign-in modes enforced by the server, tenant isolation.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from campaigns.models import Visitor
from chats.models import Chat, Message
from chats.services import visitor_handoff_mint
from tenants.models import Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns, WindowClient, window_token


def config_of(content: bytes) -> dict[str, object]:
    text = content.decode()
    marker = 'id="chat-config" type="application/json">'
    start = text.index(marker) + len(marker)
    return dict(json.loads(text[start : text.index("</script>", start)]))


def test_window_may_be_framed_only_by_the_sites_origins(
    client: Client, site: Site, campaigns: Campaigns
) -> None:
    site.allowed_origins = "https://shop.example\nhttp://localhost:8123"
    site.save()
    response = client.get(f"/chat/{site.site_id}/{campaigns.optional.pk}/")
    assert response.status_code == 200
    policy = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    assert "frame-ancestors 'self' https://shop.example http://localhost:8123" in policy
    assert "X-Frame-Options" not in response
    config = config_of(response.content)
    assert config["mode"] == "optional"
    assert config["survey"] == [{"key": "topic", "label": "What is it about?"}]
    assert not response.cookies  # the window sets no cookie


def test_other_pages_still_refuse_framing(client: Client, site: Site) -> None:
    assert client.get("/agent/login/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("which", ["unknown_site", "other_sites_campaign", "inactive", "disabled"])
def test_window_of_a_missing_campaign_is_a_plain_404(
    client: Client, site: Site, other_site: Site, campaigns: Campaigns, which: str
) -> None:
    other = CampaignFactory.create(site=other_site, name="B secret campaign")
    url = {
        "unknown_site": f"/chat/99999/{campaigns.none.pk}/",
        "other_sites_campaign": f"/chat/{site.site_id}/{other.pk}/",
        "inactive": f"/chat/{site.site_id}/{campaigns.none.pk}/",
        "disabled": f"/chat/{site.site_id}/{campaigns.none.pk}/",
    }[which]
    if which == "inactive":
        campaigns.none.is_active = False
        campaigns.none.save()
    if which == "disabled":
        site.is_active = False
        site.save()
    response = client.get(url)
    assert response.status_code == 404
    assert "B secret campaign" not in response.content.decode()


def test_a_guest_chats_without_any_cookie(client: Client, campaigns: Campaigns) -> None:
    window = WindowClient(client, campaigns.none)
    started = window.post("start/", {"survey": {"topic": "Tent poles"}})
    assert started.status_code == 200
    assert window.post("send/", {"text": "Hello there"}).status_code == 200

    polled = window.get("poll/", after=0).json()

    chat = Chat.objects.get()
    assert started.json()["chat"] == chat.pk
    assert chat.survey_answers == {"topic": "Tent poles"}
    assert [m["text"] for m in polled["messages"]] == ["Hello there"]
    assert polled["signin_requested"] is False
    assert not client.cookies


def test_required_mode_cannot_start_a_chat_without_sign_in(
    client: Client, campaigns: Campaigns
) -> None:
    window = WindowClient(client, campaigns.required)
    response = window.post("start/", {"survey": {}})
    assert response.status_code == 403
    assert response.json() == {"error": "signin_required"}
    assert window.post("send/", {"text": "let me in"}).status_code == 409
    assert not Chat.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "wrong_campaign", "other_site"],
)
def test_api_refuses_tokens_not_of_this_window(
    client: Client, site: Site, other_site: Site, campaigns: Campaigns, token: str
) -> None:
    other = CampaignFactory.create(site=other_site)
    value = {
        "": "",
        "garbage": "abc.def",
        "wrong_campaign": window_token(campaigns.optional),
        "other_site": window_token(other),
    }[token]
    window = WindowClient(client, campaigns.none, token=value or "x")
    if not value:
        response = client.post(window.base + "start/", {}, content_type="application/json")
    else:
        response = window.post("start/", {})
    assert response.status_code == 401
    assert not Chat.objects.exists()


def test_a_window_never_reads_another_sites_chat(
    client: Client, site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    other_campaign = CampaignFactory.create(site=other_site)
    other_window = WindowClient(client, other_campaign)
    other_window.post("start/", {})
    other_window.post("send/", {"text": "B's private words"})
    b_chat = Chat.objects.get(site=other_site)

    # A token of site A naming B's chat id: the chat is not found for A.
    forged = WindowClient(
        client, campaigns.none, token=window_token(campaigns.none, chat_pk=b_chat.pk)
    )
    response = forged.get("poll/")
    assert response.status_code == 409
    assert "B's private words" not in response.content.decode()


def test_redeeming_a_handoff_code_continues_the_same_chat(
    client: Client, site: Site, campaigns: Campaigns
) -> None:
    window = WindowClient(client, campaigns.optional)
    window.post("start/", {"survey": {"topic": "Sizes"}})
    chat = Chat.objects.get()
    visitor = Visitor.objects.create(site=site, external_id="v-1", name="Vera Visitor")
    code = visitor_handoff_mint(site=site, campaign=campaigns.optional, visitor=visitor)

    redeemed = window.post("redeem/", {"code": code})

    assert redeemed.status_code == 200
    assert redeemed.json()["visitor"] == {"name": "Vera Visitor"}
    assert redeemed.json()["chat"] == chat.pk
    chat.refresh_from_db()
    assert chat.visitor == visitor
    assert window.get("state/").json()["visitor"] == {"name": "Vera Visitor"}
    assert window.post("redeem/", {"code": code}).json() == {"error": "handoff_invalid"}


def test_signed_in_visitor_starts_a_required_chat(
    client: Client, site: Site, campaigns: Campaigns
) -> None:
    visitor = Visitor.objects.create(site=site, external_id="v-2", name="Sam")
    window = WindowClient(
        client, campaigns.required, token=window_token(campaigns.required, visitor_pk=visitor.pk)
    )
    response = window.post("start/", {"survey": {"topic": "ignored"}})
    assert response.status_code == 200
    chat = Chat.objects.get()
    assert chat.visitor == visitor
    assert chat.survey_answers == {}


def test_loader_script_is_served_as_javascript(client: Client) -> None:
    response = client.get("/chat/loader.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert "signInWithJwt" in body
    assert "postMessage(message, origin)" in body  # never to "*"


def test_a_token_naming_another_campaigns_chat_reads_nothing(
    client: Client, campaigns: Campaigns
) -> None:
    other = WindowClient(client, campaigns.optional)
    other.post("start/", {"survey": {}})
    other.post("send/", {"text": "optional campaign's words"})
    chat = Chat.objects.get()
    forged = WindowClient(
        client, campaigns.none, token=window_token(campaigns.none, chat_pk=chat.pk)
    )
    response = forged.get("poll/")
    assert response.status_code == 409
    assert "optional campaign's words" not in response.content.decode()
