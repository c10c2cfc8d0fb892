"""The chat window and the visitor sign-in at the input boundary: each input
that once answered HTTP 500 now answers 4xx with a code (issue 10).

SECURITY.md "Every input parsed at one boundary: sizes, depth, encodings
(UTF-8 strict, no NUL, no lone surrogates), ASCII-only integers".
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from campaigns.models import Visitor
from chats.models import Chat, Message
from chats.services import chat_start, survey_clean
from sso.jwt.models import JwtSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import LoginEvent, Site
from tests.fixtures.chats import Campaigns, WindowClient, make_jwt

DIGITS = ["\u0661", "\u00b2", "\U0001d7cf", "\uff11", "1\u0662"]


class _ShortBody(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError("client disconnected")


def _post_raw(client: Client, window: WindowClient, path: str, body: bytes) -> Any:
    return client.post(
        window.base + path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {window.token}",
    )


@pytest.mark.parametrize("path", ["start/", "send/", "redeem/"])
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 5000 + b"]" * 5000, "json_too_deep"),
        (b'{"text": "\\ud800", "code": "\\udfff"}', "bad_text"),
        (b'{"text": "a\\u0000b", "survey": {"topic": "\\u0000"}}', "bad_text"),
        (b"\xed\xa0\x80", "bad_encoding"),
    ],
)
def test_window_json_is_read_at_one_boundary(
    client: Client, campaigns: Campaigns, path: str, body: bytes, code: str
) -> None:
    window = WindowClient(client, campaigns.none)
    window.post("start/", {"survey": {"topic": "ok"}})
    before = Message.objects.count(), Chat.objects.count()

    response = _post_raw(client, window, path, body)

    assert response.status_code == 400
    assert response.json() == {"error": code}
    assert (Message.objects.count(), Chat.objects.count()) == before


def test_a_body_shorter_than_its_content_length_answers_400(
    client: Client, campaigns: Campaigns
) -> None:
    window = WindowClient(client, campaigns.none)
    response = client.post(
        window.base + "start/",
        b"",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {window.token}",
        **{"wsgi.input": _ShortBody(), "CONTENT_LENGTH": "1000"},  # type: ignore[arg-type]
    )
    assert response.status_code == 400
    assert response.json() == {"error": "unreadable_body"}
    assert not Chat.objects.exists()


@pytest.mark.parametrize("after", DIGITS)
def test_window_poll_after_is_an_ascii_integer(
    client: Client, campaigns: Campaigns, after: str
) -> None:
    window = WindowClient(client, campaigns.none)
    window.post("start/")
    response = window.get("poll/", after=after)
    assert response.status_code == 400
    assert response.json() == {"error": "bad_integer"}
    assert window.get("poll/", after="0").status_code == 200


def test_console_poll_after_is_an_ascii_integer(
    signed_in_client: Any, agent: Any, campaigns: Campaigns
) -> None:
    chat = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    client = signed_in_client(agent)
    response = client.get(f"/console/chats/{chat.pk}/poll/", {"after": "\u00b2"})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_integer"}


def test_console_messages_are_cleaned_of_nul(
    signed_in_client: Any, agent: Any, campaigns: Campaigns
) -> None:
    """PRODUCT.md: chat text is cleaned (NUL, controls, surrogates removed)."""
    chat = chat_start(site=agent.site, campaign=campaigns.none, visitor=None)
    client = signed_in_client(agent)
    response = client.post(f"/console/chats/{chat.pk}/send/", {"text": "hel\x00lo\x07"})
    assert response.status_code == 200
    assert Message.objects.get(pk=response.json()["id"]).text == "hello"


def test_survey_answers_are_cleaned_of_nul(campaigns: Campaigns) -> None:
    answers = survey_clean(campaign=campaigns.none, answers={"topic": "bil\x00ling\ud800"})
    assert answers == {"topic": "billing"}


@pytest.mark.parametrize("campaign", DIGITS)
def test_visitor_login_campaign_is_an_ascii_integer(
    client: Client, site: Site, campaigns: Campaigns, visitor_sso: JwtSettings, campaign: str
) -> None:
    response = client.get(f"/sso/{site.site_id}/visitor/login/", {"campaign": campaign})
    assert response.status_code == 400
    assert RefusalReason.BAD_REQUEST.value in response.content.decode()
    event = LoginEvent.objects.get()
    assert (event.reason, event.detail) == ("bad_request", {"campaign": "unknown"})


@pytest.mark.parametrize("campaign", DIGITS)
def test_visitor_jwt_callback_campaign_is_an_ascii_integer(
    client: Client, site: Site, campaigns: Campaigns, visitor_sso: JwtSettings, campaign: str
) -> None:
    response = client.post(
        f"/sso/{site.site_id}/visitor/jwt/",
        {"campaign": campaign, "jwt": make_jwt()},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response.json()["reason"] == RefusalReason.BAD_REQUEST
    assert not Visitor.objects.exists()
    assert LoginEvent.objects.get().reason == RefusalReason.BAD_REQUEST


def _visitor_jwt(client: Client, site: Site, campaigns: Campaigns, **claims: Any) -> Any:
    return client.post(
        f"/sso/{site.site_id}/visitor/jwt/",
        {"campaign": str(campaigns.optional.pk), "jwt": make_jwt(**claims)},
        HTTP_ACCEPT="application/json",
    )


def test_a_lone_surrogate_in_a_signed_visitor_claim_is_cleaned(
    client: Client, site: Site, campaigns: Campaigns, visitor_sso: JwtSettings
) -> None:
    response = _visitor_jwt(client, site, campaigns, name="Ve\ud800ra\x00")
    assert response.status_code == 200
    assert Visitor.objects.get().name == "Vera"


def test_a_lone_surrogate_in_the_visitor_key_is_refused(
    client: Client, site: Site, campaigns: Campaigns, visitor_sso: JwtSettings
) -> None:
    response = _visitor_jwt(client, site, campaigns, external_id="c\ud800", sub=None)
    assert response.status_code == 403
    assert response.json()["reason"] == RefusalReason.JWT_MISSING_CLAIM
    assert not Visitor.objects.exists()
    assert LoginEvent.objects.get().reason == RefusalReason.JWT_MISSING_CLAIM


def test_visitors_keyed_by_email_share_the_identity_key(
    client: Client, site: Site, campaigns: Campaigns, visitor_sso: JwtSettings
) -> None:
    assert _visitor_jwt(client, site, campaigns, external_id="Vera@Shop.Example").status_code == 200
    assert _visitor_jwt(client, site, campaigns, external_id="vera@shop.example").status_code == 200
    assert list(Visitor.objects.values_list("external_id", flat=True)) == ["vera@shop.example"]

    lookalike = _visitor_jwt(client, site, campaigns, external_id="v\u0435ra@shop.example")
    assert lookalike.status_code == 403
    assert lookalike.json()["reason"] == RefusalReason.IDENTITY_LOOKALIKE
    assert Visitor.objects.count() == 1
