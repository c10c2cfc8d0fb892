"""Bounded work per request: the console's chat list is one page of what the
agent can act on, fast at 5,000 waiting chats; an unchanged poll is cheap;
abandoned guest chats expire.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chats.models import Chat, Message
from chats.tasks import chats_expire_abandoned
from tenants.models import Agent, Site
from tests.factories import AgentFactory, CampaignFactory

SignedInClient = Callable[[Agent], Client]


def waiting_chats(site: Site, count: int) -> list[Chat]:
    campaign = CampaignFactory.create(site=site, signin_mode="none")
    return Chat.objects.bulk_create(
        Chat(site=site, campaign=campaign, status=Chat.Status.WAITING) for _ in range(count)
    )


def test_the_chat_list_is_one_fast_page_at_5000_waiting_chats(
    agent: Agent, signed_in_client: SignedInClient
) -> None:
    chats = waiting_chats(agent.site, 5000)
    client = signed_in_client(agent)
    client.get("/console/chats.json")  # warm up
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        response = client.get("/console/chats.json")
        timings.append(time.perf_counter() - start)
    body = response.json()
    assert response.status_code == 200
    assert len(body["chats"]) == 50
    assert body["total"] == 5000
    assert body["pages"] == 100
    assert [c["id"] for c in body["chats"]] == [c.pk for c in chats[:50]]
    assert len(response.content) < 20_000
    assert statistics.median(timings) < 0.2, timings

    last = client.get("/console/chats.json", {"page": "100"}).json()
    assert [c["id"] for c in last["chats"]] == [c.pk for c in chats[-50:]]
    # Out-of-range or malformed pages fall back to a valid one, never a 500.
    assert client.get("/console/chats.json", {"page": "999999"}).json()["page"] == 100
    assert client.get("/console/chats.json", {"page": "x" * 5000}).json()["page"] == 1


def test_a_poll_with_nothing_new_is_one_query(
    agent: Agent, signed_in_client: SignedInClient
) -> None:
    chats = waiting_chats(agent.site, 3)
    client = signed_in_client(agent)
    version = client.get("/console/chats.json").json()["version"]
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/console/chats.json", {"version": version})
    assert response.json() == {"unchanged": True, "version": version}
    chat_queries = [q for q in queries.captured_queries if "chats_chat" in q["sql"]]
    assert len(chat_queries) == 1
    # Another agent takes a chat: the version changes and the chat leaves the list.
    colleague = AgentFactory.create(site=agent.site, email="bob@a.example")
    Chat.objects.filter(pk=chats[0].pk).update(status=Chat.Status.ACTIVE, agent=colleague)
    changed = client.get("/console/chats.json", {"version": version}).json()
    assert changed["version"] != version
    assert [c["id"] for c in changed["chats"]] == [chats[1].pk, chats[2].pk]
    # The agent's own active chat stays in their list.
    Chat.objects.filter(pk=chats[1].pk).update(status=Chat.Status.ACTIVE, agent=agent)
    mine = client.get("/console/chats.json").json()
    assert [c["id"] for c in mine["chats"]] == [chats[1].pk, chats[2].pk]


def test_abandoned_guest_chats_expire(site: Site, agent: Agent) -> None:
    old, talking, taken, fresh = waiting_chats(site, 4)
    long_ago = timezone.now() - timedelta(hours=2)
    Chat.objects.filter(pk__in=[old.pk, talking.pk, taken.pk]).update(created_at=long_ago)
    Chat.objects.filter(pk=taken.pk).update(status=Chat.Status.ACTIVE, agent=agent)
    Message.objects.create(site=site, chat=talking, sender="visitor", text="still here")

    assert chats_expire_abandoned.apply().get() == 1  # the task's own code, in-process

    statuses = dict(Chat.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: "closed",
        talking.pk: "waiting",
        taken.pk: "active",
        fresh.pk: "waiting",
    }
    assert Message.objects.filter(chat=old, sender="system").count() == 1
    assert chats_expire_abandoned.apply().get() == 0  # idempotent
