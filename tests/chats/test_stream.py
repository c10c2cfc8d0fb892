"""The window's push stream (chats.stream) on a real uvicorn process with the
real Redis: it refuses what the window's API refuses, by the same reason
codes, and says "changed" to the windows of a chat once a change commits,
and to no other window.
"""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.core import signing
from django.test import Client

from chats.live import chat_channel
from chats.models import Chat, Message
from chats.services import message_post
from chats.tokens import TOKEN_MAX_AGE
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns, WindowClient, window_token
from tests.ops.servers import private_redis, production_stack, server_env, stream_server

pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.slow]


@pytest.fixture
def stream() -> Iterator[str]:
    with stream_server(server_env()) as url:
        yield url


def stream_url(base: str, campaign: Any, token: str, site_id: int | None = None) -> str:
    return f"{base}/chat/{site_id or campaign.site.site_id}/{campaign.pk}/api/stream/?t={token}"


def started(campaign: Any) -> WindowClient:
    window = WindowClient(Client(), campaign)
    assert window.post("start/", {"survey": {}}).status_code == 200
    return window


def assert_refused(url: str, reason: RefusalReason) -> None:
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.json()) == (reason.status, {"error": reason.value})


def test_the_stream_refuses_what_the_window_api_refuses(
    stream: str, site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    window = started(campaigns.none)
    with requests.get(
        stream_url(stream, campaigns.none, window.token), stream=True, timeout=10
    ) as ok:
        assert ok.status_code == 200
    # Forged, missing, or a guest's (no chat yet).
    assert_refused(
        stream_url(stream, campaigns.none, "x" + window.token), RefusalReason.CHAT_BAD_TOKEN
    )
    assert_refused(stream_url(stream, campaigns.none, ""), RefusalReason.CHAT_BAD_TOKEN)
    assert_refused(
        stream_url(stream, campaigns.none, window_token(campaigns.none)), RefusalReason.NO_CHAT
    )
    # Expired: issued longer ago than a token lives.
    past = time.time() - TOKEN_MAX_AGE - 60
    with mock.patch("django.core.signing.time.time", return_value=past):
        old = window_token(campaigns.none, chat_pk=Chat.objects.get().pk)
    assert_refused(stream_url(stream, campaigns.none, old), RefusalReason.CHAT_BAD_TOKEN)
    # A genuine token at another campaign's or another site's URL.
    assert_refused(
        stream_url(stream, campaigns.optional, window.token), RefusalReason.CHAT_BAD_TOKEN
    )
    other = started(CampaignFactory.create(site=other_site))
    assert_refused(stream_url(stream, campaigns.none, other.token), RefusalReason.CHAT_BAD_TOKEN)
    # Another site's URL with this campaign: no such window there.
    assert_refused(
        stream_url(stream, campaigns.none, window.token, site_id=other_site.site_id),
        RefusalReason.CHAT_NOT_FOUND,
    )
    assert_refused(
        stream_url(stream, campaigns.none, window.token, site_id=99_999_999),
        RefusalReason.CHAT_NOT_FOUND,
    )
    # Signed out: every token the window held is revoked.
    held = window.token
    assert window.post("sign-out/").status_code == 200
    assert_refused(stream_url(stream, campaigns.none, held), RefusalReason.CHAT_TOKEN_REVOKED)


class Events:
    """The lines of one open stream, read from a plain socket in a thread
    (chunk-size lines of the chunked encoding pass by, ignored)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=5)
        request = f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n"
        self.sock.sendall(request.encode())
        self.file = self.sock.makefile("rb")
        status = self.file.readline().decode()
        assert status.split()[1] == "200", status
        headers = {}
        while (line := self.file.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        assert headers["content-type"].startswith("text/event-stream")
        self.sock.settimeout(None)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self.file.readline():
                self.lines.put(line.decode().rstrip("\r\n"))
        except (OSError, ValueError):
            pass  # closed by the test

    def next_data(self, seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line.startswith("data: "):
                return line.removeprefix("data: ")
        return None

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def test_a_committed_message_is_pushed_to_its_chats_windows_only(
    stream: str, site: Site, agent: Agent, campaigns: Campaigns
) -> None:
    mine, theirs = started(campaigns.none), started(campaigns.none)
    chat = Chat.objects.get(pk=signing.loads(mine.token, salt="chats.chat-token.v1")["ch"])
    events = Events(stream_url(stream, campaigns.none, mine.token))
    twin = Events(stream_url(stream, campaigns.none, mine.token))  # a second tab
    bystander = Events(stream_url(stream, campaigns.none, theirs.token))
    try:
        time.sleep(0.3)  # the stream server subscribed
        sent = time.monotonic()
        message_post(site=site, chat=chat, sender=Message.Sender.AGENT, text="Hi!", agent=agent)
        assert events.next_data(2.0) == "changed"
        assert time.monotonic() - sent < 2.0
        assert twin.next_data(2.0) == "changed"
        assert bystander.next_data(1.0) is None
        # The window's poll then reads the message from Django.
        polled = mine.get("poll/", after=0)
        assert [m["text"] for m in polled.json()["messages"]][-1] == "Hi!"
        # The visitor's own message is pushed too (the other tab shows it).
        mine.post("send/", {"text": "Hello"})
        assert twin.next_data(2.0) == "changed"
    finally:
        for each in (events, twin, bystander):
            each.close()
    # The streams are gone from the server once their clients left.
    deadline = time.monotonic() + 5
    while requests.get(f"{stream}/healthz", timeout=5).json()["streams"] and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert requests.get(f"{stream}/healthz", timeout=5).json()["streams"] == 0


def test_behind_nginx_the_window_gets_its_stream_on_its_own_origin(
    tmp_path: Path, site: Site, agent: Agent, campaigns: Campaigns
) -> None:
    """``make serve``: the window's config names the stream on the gateway's
    origin, and nginx passes each event on at once (no buffering)."""
    with production_stack(server_env(), tmp_path, workers=1) as base:
        page = requests.get(f"{base}/chat/{site.site_id}/{campaigns.none.pk}/", timeout=10)
        config = json.loads(
            page.text.split('id="chat-config" type="application/json">')[1].split("</script>")[0]
        )
        assert config["stream"] == f"/chat/{site.site_id}/{campaigns.none.pk}/api/stream/"
        window = started(campaigns.none)
        events = Events(f"{base}{config['stream']}?t={window.token}")
        try:
            time.sleep(0.3)
            chat = Chat.objects.get()
            message_post(site=site, chat=chat, sender=Message.Sender.AGENT, text="Hi", agent=agent)
            assert events.next_data(2.0) == "changed"
        finally:
            events.close()
        assert_refused(f"{base}{config['stream']}?t=forged", RefusalReason.CHAT_BAD_TOKEN)
        # More open windows behind one address than its 64 connections to
        # the rest: the streams are counted apart, the gateway still answers.
        many = [Events(f"{base}{config['stream']}?t={window.token}") for _ in range(80)]
        try:
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        finally:
            for each in many:
                each.close()


def test_a_lost_redis_makes_every_window_poll_and_pushes_resume_when_it_is_back(
    tmp_path: Path, site: Site, campaigns: Campaigns
) -> None:
    """Pushes published while the stream server had no Redis are lost: its
    windows are told "changed" when the connection goes and when it is back."""
    with private_redis(tmp_path) as (url, redis_process):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with stream_server(server_env(REDIS_URL=url)) as base:
            window = started(campaigns.none)
            chat_pk = Chat.objects.get().pk
            events = Events(stream_url(base, campaigns.none, window.token))
            channel = chat_channel(
                db=0, site_id=site.site_id, campaign_pk=campaigns.none.pk, chat_pk=chat_pk
            )
            publisher = redis.Redis.from_url(url)
            try:
                until(lambda: publisher.publish(channel, b"changed") == 1)
                assert events.next_data(2.0) == "changed"
                redis_process.kill()
                redis_process.wait()
                assert events.next_data(3.0) == "changed"  # the connection is gone
                assert events.next_data(2.5) is None  # once, not on every retry
                binary = shutil.which("redis-server") or "redis-server"
                command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
                again = subprocess.Popen(
                    [*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL
                )
                try:
                    assert events.next_data(10.0) == "changed"  # it is back
                    until(lambda: publisher.publish(channel, b"changed") == 1)
                    assert events.next_data(2.0) == "changed"
                finally:
                    again.terminate()
                    again.wait()
            finally:
                events.close()
                publisher.close()


def until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.1)
