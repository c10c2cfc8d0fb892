"""The window's poll: "nothing new" is answered from Redis alone (204, no
database query); any change the window shows makes the next poll a full one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from chats.models import Message
from chats.services import chat_close, message_post
from tenants.models import Agent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns, WindowClient

Capture = Callable[..., Any]


def started(client: Client, campaigns: Campaigns) -> tuple[WindowClient, int]:
    window = WindowClient(client, campaigns.none)
    chat_pk = window.post("start/", {"survey": {}}).json()["chat"]
    return window, chat_pk


def test_nothing_new_costs_no_database_query_and_a_change_is_seen_next_poll(
    client: Client,
    site: Site,
    agent: Agent,
    campaigns: Campaigns,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    window, chat_pk = started(client, campaigns)
    first = window.get("poll/", after=0, v="")
    assert first.status_code == 200
    version = first["X-Chat-Version"]
    last = max([0, *(m["id"] for m in first.json()["messages"])])

    with django_assert_num_queries(0):
        quiet = window.get("poll/", after=last, v=version)
    assert quiet.status_code == 204
    assert quiet.content == b""

    chat = campaigns.none.chats.get(pk=chat_pk)
    with django_capture_on_commit_callbacks(execute=True):
        message_post(site=site, chat=chat, sender=Message.Sender.AGENT, text="Hi!", agent=agent)

    changed = window.get("poll/", after=last, v=version)
    assert changed.status_code == 200
    assert [m["text"] for m in changed.json()["messages"]] == ["Hi!"]
    assert changed["X-Chat-Version"] != version

    with django_capture_on_commit_callbacks(execute=True):
        chat_close(site=site, chat=chat, agent=agent)
    ended = window.get("poll/", after=last, v=changed["X-Chat-Version"])
    assert ended.status_code == 200
    assert ended.json()["status"] == "closed"


def test_a_stale_or_foreign_version_never_gets_the_short_answer(
    client: Client, site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    window, _ = started(client, campaigns)
    version = window.get("poll/", after=0)["X-Chat-Version"]
    assert window.get("poll/", after=0, v="not-the-version").status_code == 200
    # A genuine token of another site's chat, sent to this window's URL with
    # that chat's version: the key is this URL's, so it is a full poll, refused.
    other_campaign = CampaignFactory.create(site=other_site)
    other = WindowClient(client, other_campaign)
    other.post("start/", {"survey": {}})
    other_version = other.get("poll/", after=0)["X-Chat-Version"]
    intruder = WindowClient(client, campaigns.none, token=other.token)
    response = intruder.get("poll/", after=0, v=other_version)
    assert response.status_code == 401
    assert response.json() == {"error": "bad_token"}
    assert window.get("poll/", after=0, v=version).status_code == 204


def test_the_wsgi_fast_path_answers_nothing_new_before_django(
    client: Client, site: Site, campaigns: Campaigns, django_assert_num_queries: Any
) -> None:
    from chats.live import poll_fast_path

    window, _ = started(client, campaigns)
    version = window.get("poll/", after=0)["X-Chat-Version"]
    reached: list[str] = []

    def django(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(environ["QUERY_STRING"])
        start_response("200 OK", [])
        return [b"django"]

    app = poll_fast_path(django)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    def call(query: str, token: str = window.token, method: str = "GET") -> list[bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": window.base + "poll/",
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": f"Bearer {token}",
        }
        return list(app(environ, start_response))

    with django_assert_num_queries(0):
        assert call(f"after=0&v={version}") == []
    assert statuses == ["204 No Content"]
    assert reached == []
    assert call("after=0&v=stale") == [b"django"]
    assert call(f"after=0&v={version}", token="forged") == [b"django"]
    assert call(f"after=0&v={version}", method="POST") == [b"django"]
    assert len(reached) == 3
