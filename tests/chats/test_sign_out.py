"""``SsoChat.signOut()`` revokes the window's tokens on the gateway: every
token the window held (older copies too) is refused as ``token_revoked``, its
chat ends, and the window starts again with a fresh guest token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import signing
from django.test import Client

from chats.models import Chat, Message
from chats.tokens import TOKEN_SALT, WINDOW_REVOKED, handoff_code_mint
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site, UsedToken
from tests.factories import VisitorFactory
from tests.fixtures.chats import Campaigns, WindowClient

SignedInClient = Callable[[Agent], Client]
Capture = Callable[..., Any]


def assert_revoked(response: Any) -> None:
    assert response.status_code == RefusalReason.CHAT_TOKEN_REVOKED.status == 401
    assert response.json() == {"error": RefusalReason.CHAT_TOKEN_REVOKED.value}


def signed_in_window(site: Site, campaigns: Campaigns) -> tuple[WindowClient, list[str]]:
    """A window whose visitor signed in and chatted; every token it held."""
    window = WindowClient(Client(), campaigns.required)
    held = [window.token]
    visitor = VisitorFactory.create(site=site, external_id="cust-9", name="Sam Shared")
    code = handoff_code_mint(
        site_pk=site.pk, campaign_pk=campaigns.required.pk, visitor_pk=visitor.pk
    )
    assert window.post("redeem/", {"code": code}).status_code == 200
    held.append(window.token)
    assert window.post("start/").status_code == 200
    held.append(window.token)
    window.post("send/", {"text": "My card number ends in 42"})
    return window, held


def test_sign_out_refuses_every_token_the_window_held_and_ends_its_chat(
    site: Site, campaigns: Campaigns, agent: Agent, signed_in_client: SignedInClient
) -> None:
    window, held = signed_in_window(site, campaigns)
    chat = Chat.objects.get()

    out = window.post("sign-out/")

    assert out.status_code == 200
    assert out.json()["chat"] is None
    assert out.json()["visitor"] is None
    for token in held:  # the guest one, the signed-in one, the chat's one
        replay = WindowClient(Client(), campaigns.required, token=token)
        assert_revoked(replay.get("state/"))
        assert_revoked(replay.get("poll/", after=0))
        assert_revoked(replay.post("send/", {"text": "still me?"}))
        assert_revoked(replay.post("start/"))
    chat.refresh_from_db()
    assert chat.status == Chat.Status.CLOSED
    assert Message.objects.filter(chat=chat, sender="visitor").count() == 1
    console = signed_in_client(agent).get(f"/console/chats/{chat.pk}/poll/").json()
    assert console["messages"][-1]["text"] == "The visitor signed out; the chat has ended."
    assert UsedToken.objects.filter(site=site, kind=WINDOW_REVOKED).count() == 1


def test_after_sign_out_the_fresh_guest_token_shows_nothing_of_the_previous_person(
    site: Site, campaigns: Campaigns
) -> None:
    window, _ = signed_in_window(site, campaigns)
    window.post("sign-out/")  # the client now holds the fresh token

    state = window.get("state/").json()
    assert state["chat"] is None
    assert state["visitor"] is None
    assert window.get("poll/", after=0).json() == {"error": "no_chat"}
    assert window.post("start/").json() == {"error": "signin_required"}


def test_a_revoked_token_never_gets_the_quiet_answer_of_the_poll(
    site: Site, campaigns: Campaigns, django_capture_on_commit_callbacks: Capture
) -> None:
    window, _ = signed_in_window(site, campaigns)
    old = window.token
    version = window.get("poll/", after=0)["X-Chat-Version"]
    assert window.get("poll/", after=0, v=version).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        window.post("sign-out/")

    replay = WindowClient(Client(), campaigns.required, token=old)
    assert_revoked(replay.get("poll/", after=0, v=version))


def test_signing_out_one_window_leaves_another_visitors_window_alone(
    site: Site, campaigns: Campaigns
) -> None:
    window, _ = signed_in_window(site, campaigns)
    other = WindowClient(Client(), campaigns.none)
    other.post("start/", {"survey": {}})

    window.post("sign-out/")

    assert other.post("send/", {"text": "Still here"}).status_code == 200
    assert other.get("state/").json()["chat"] is not None


def test_a_second_sign_out_with_the_revoked_token_is_refused(
    site: Site, campaigns: Campaigns
) -> None:
    window, _ = signed_in_window(site, campaigns)
    old = window.token
    window.post("sign-out/")
    assert_revoked(WindowClient(Client(), campaigns.required, token=old).post("sign-out/"))


def test_a_token_without_a_window_id_is_refused_it_could_not_be_revoked(
    campaigns: Campaigns,
) -> None:
    payload = {"s": campaigns.none.site_id, "c": campaigns.none.pk, "ch": None, "v": None}
    token = signing.dumps(payload, salt=TOKEN_SALT, compress=False)
    response = WindowClient(Client(), campaigns.none, token=token).get("state/")
    assert response.status_code == 401
    assert response.json() == {"error": RefusalReason.CHAT_BAD_TOKEN.value}
