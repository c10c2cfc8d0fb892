"""Push for the chat window and the agent console: one Server-Sent Events
stream per open window, per chat open in a console, and per console list.

    GET /chat/<site_id>/<campaign_id>/api/stream/?t=<chat token>
    GET /console/chats/<chat_id>/stream/?t=<console stream ticket>
    GET /console/stream/?t=<console stream ticket for chat 0>   (the chat list)

An ASGI app (run by uvicorn: ``make serve`` starts it, nginx routes the path
to it). The stream carries nothing but ``data: changed`` when the chat
changed, and a comment every ``HEARTBEAT_S`` seconds; the window then makes
its normal poll, so every data check stays in Django (``chats.views``). A
window whose stream fails polls at its old pace instead.

The token is checked when the stream opens, as the window's API checks it:
signature and age, the URL's site and campaign, the sign-out revocation of
its window, and a chat of that campaign; refusals are JSON with the reason
code, like the API's. ``EventSource`` cannot send headers, so the token is in
the query string: neither nginx nor uvicorn (``--no-access-log``) logs it. A
stream ends after ``STREAM_MAX_S`` (with jitter); the browser reconnects and
the token is checked again (a revoked or expired one is refused then).

The console's stream has no session here: the console issues a ticket behind
the agent's sign-in (``chats.tokens.console_ticket_issue``, one minute to
open the stream, for a chat of the agent's site), and this server checks the
ticket alone (``console_stream_authorize``). The console's stream listens to
the chat's channel and to its console channel (the visitor typing, "seen");
the list's stream (a ticket for chat 0) to the site's channel (chats arriving,
taken, ended: ``chats.live.chat_list_notify``). The console asks a new ticket
for every (re)connection.

Fan-out: ONE Redis pub/sub connection per process (``Hub``), subscribed to
the channels of the chats its streams hold; ``chats.live.chat_version_bump``
publishes "changed" on a chat's channel once a change commits. An idle
stream costs a socket and a few small objects: no task wakes for it between
heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.production")
django.setup()

# Django must be set up before these imports (models).
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402

from campaigns.selectors import campaign_get_active  # noqa: E402
from chats.live import chat_channel, console_channel, site_channel  # noqa: E402
from chats.selectors import chat_get, chat_window_revoked  # noqa: E402
from chats.tokens import ChatTokenError, chat_token_read, console_ticket_read  # noqa: E402
from sso_site.signin.refusals import RefusalReason  # noqa: E402
from tenants.selectors import (  # noqa: E402
    agent_get_signed_in,
    site_get_by_public_id,
    site_is_usable,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

STREAM_PATH = re.compile(r"^/chat/([0-9]{1,10})/([0-9]{1,19})/api/stream/$")
CONSOLE_PATH = re.compile(r"^/console/chats/([0-9]{1,19})/stream/$")
# The console's chat list (a ticket for chat 0): chats arriving, taken, ended.
CONSOLE_LIST_PATH = "/console/stream/"
HEARTBEAT_S = 20.0
STREAM_MAX_S = 1800.0
# How long the browser waits before it reconnects a dropped stream (ms).
RETRY_MS = 2000

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
    # The answer holds nothing but "changed" for whoever has the token; a
    # window served from another origin than the stream may read it.
    (b"access-control-allow-origin", b"*"),
]


def stream_authorize(
    site_id: int, campaign_id: int, token: str
) -> tuple[RefusalReason | None, int]:
    """Return (None, chat pk) if ``token`` may follow its chat at this URL,
    else (the reason, 0): the checks of ``chats.views.window_api``."""
    close_old_connections()
    site = site_get_by_public_id(site_id=site_id)
    if not site_is_usable(site):
        return RefusalReason.CHAT_NOT_FOUND, 0
    campaign = campaign_get_active(site=site, pk=campaign_id)
    if campaign is None:
        return RefusalReason.CHAT_NOT_FOUND, 0
    try:
        credential = chat_token_read(token, site_pk=site.pk, campaign_pk=campaign.pk)
    except ChatTokenError:
        return RefusalReason.CHAT_BAD_TOKEN, 0
    if chat_window_revoked(site=site, window_id=credential.window_id):
        return RefusalReason.CHAT_TOKEN_REVOKED, 0
    chat = chat_get(site=site, pk=credential.chat_pk)
    if chat is None or chat.campaign_id != campaign.pk:
        return RefusalReason.NO_CHAT, 0
    return None, chat.pk


def console_stream_authorize(chat_id: int, ticket: str) -> tuple[RefusalReason | None, int, int]:
    """Return (None, the site's public ID, the chat's campaign pk) if the
    console's ``ticket`` may follow chat ``chat_id``, else (the reason, 0, 0).
    Chat 0 is the agent's site's chat list (campaign pk 0).

    The ticket alone (the stream server has no session): its signature and
    age, the URL's chat, an agent still active on a usable site, and a chat
    of that agent's site.
    """
    close_old_connections()
    try:
        ticket_of = console_ticket_read(ticket)
    except ChatTokenError:
        return RefusalReason.CHAT_BAD_TOKEN, 0, 0
    if ticket_of.chat_pk != chat_id:
        return RefusalReason.CHAT_BAD_TOKEN, 0, 0
    agent = agent_get_signed_in(site_pk=ticket_of.site_pk, pk=ticket_of.agent_pk)
    if agent is None:
        return RefusalReason.AGENT_INACTIVE, 0, 0
    if chat_id == 0:
        return None, agent.site.site_id, 0
    chat = chat_get(site=agent.site, pk=chat_id)
    if chat is None:  # another site's chat: as the console's own 404
        return RefusalReason.CHAT_NOT_FOUND, 0, 0
    return None, agent.site.site_id, chat.campaign_id


# All checks in one thread with one database connection (asgiref's
# thread-sensitive executor): a stream is checked once when it opens.
_authorize = sync_to_async(stream_authorize, thread_sensitive=True)
_authorize_console = sync_to_async(console_stream_authorize, thread_sensitive=True)


class Listener:
    """One open stream: woken by its chat's pushes or by its client leaving."""

    __slots__ = ("changed", "gone", "wake")

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.changed = False
        self.gone = False


class Hub:
    """The process's one Redis pub/sub connection and who listens to what."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.db = int(redis.connection_pool.connection_kwargs.get("db", 0))
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.listeners: dict[str, set[Listener]] = {}
        self.subscribed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.redis.aclose()

    async def join(self, channel: str, listener: Listener) -> None:
        known = self.listeners.get(channel)
        if known is not None:
            known.add(listener)
            return
        self.listeners[channel] = {listener}
        await self.pubsub.subscribe(channel)
        self.subscribed.set()

    async def leave(self, channel: str, listener: Listener) -> None:
        known = self.listeners.get(channel)
        if known is None:
            return
        known.discard(listener)
        if not known:
            del self.listeners[channel]
            # (After a reconnection it is resubscribed without the channel.)
            with contextlib.suppress(RedisError, OSError):
                await self.pubsub.unsubscribe(channel)

    def _wake(self, channel: str | None) -> None:
        """Tell the listeners of ``channel`` (all of them if None)."""
        groups = self.listeners.values() if channel is None else [self.listeners.get(channel, ())]
        for group in groups:
            for listener in group:
                listener.changed = True
                listener.wake.set()

    async def _read(self) -> None:
        healthy = True
        while True:
            try:
                if not self.pubsub.subscribed:
                    self.subscribed.clear()
                    await self.subscribed.wait()
                # (Reconnects, and subscribes again, after a lost connection.)
                message = await self.pubsub.get_message(timeout=HEARTBEAT_S)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                if healthy:
                    # Pushes are lost until it is back: every window polls
                    # now, and again once it is back (below).
                    logger.warning("chat stream: Redis pub/sub connection lost; reconnecting")
                    healthy = False
                    self._wake(None)
                await asyncio.sleep(1.0)
                continue
            if not healthy:
                logger.warning("chat stream: Redis pub/sub connection back")
                healthy = True
                self._wake(None)
            if message is not None and message.get("type") == "message":
                channel = message["channel"]
                self._wake(channel.decode() if isinstance(channel, bytes) else channel)


def _redis_url() -> str:
    location = settings.CACHES["default"].get("LOCATION", "")
    url = location[0] if isinstance(location, list | tuple) else location
    return str(url or getattr(settings, "REDIS_URL", "") or "redis://127.0.0.1:6379/0")


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"access-control-allow-origin", b"*"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class StreamApp:
    """The ASGI app: the stream path, ``/healthz``, 404 for anything else."""

    def __init__(self) -> None:
        self.hub: Hub | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path == "/healthz":
            await _json(send, 200, {"ok": True, "streams": self.streams})
            return
        match = STREAM_PATH.match(path)
        console = CONSOLE_PATH.match(path) if match is None else None
        listing = path == CONSOLE_LIST_PATH
        if match is None and console is None and not listing:
            await _json(send, 404, {"error": RefusalReason.CHAT_NOT_FOUND.value})
            return
        if scope.get("method") != "GET":
            await _json(send, 405, {"error": RefusalReason.BAD_REQUEST.value})
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = query.get("t", [""])[0]
        try:
            if match is not None:
                site_id, campaign_id = int(match[1]), int(match[2])
                reason, chat_pk = await _authorize(site_id, campaign_id, token)
            else:
                chat_pk = 0 if console is None else int(console[1])
                if console is not None and chat_pk == 0:
                    await _json(send, 404, {"error": RefusalReason.CHAT_NOT_FOUND.value})
                    return
                reason, site_id, campaign_id = await _authorize_console(chat_pk, token)
        except Exception:  # the database is unreachable: the window polls instead
            logger.exception("chat stream: check failed")
            await _json(send, 503, {"error": "unavailable"})
            return
        if reason is not None:
            await _json(send, reason.status, {"error": reason.value})
            return
        await self._stream(site_id, campaign_id, chat_pk, receive, send, console=match is None)

    @property
    def streams(self) -> int:
        hub = self.hub
        # (A console's stream listens on two channels: counted once.)
        return 0 if hub is None else len(set().union(*hub.listeners.values()))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.hub = Hub(Redis.from_url(_redis_url()))
                self.hub.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.hub is not None:
                    await self.hub.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _stream(
        self,
        site_id: int,
        campaign_id: int,
        chat_pk: int,
        receive: Receive,
        send: Send,
        *,
        console: bool = False,
    ) -> None:
        hub = self.hub
        if hub is None:  # run without lifespan events
            await _json(send, 503, {"error": "unavailable"})
            return
        if console and chat_pk == 0:  # the console's chat list
            channels = [site_channel(db=hub.db, site_id=site_id)]
        else:
            channels = [
                chat_channel(db=hub.db, site_id=site_id, campaign_pk=campaign_id, chat_pk=chat_pk)
            ]
        if console and chat_pk:  # and what only the console shows (the visitor typing, "seen")
            channels.append(console_channel(db=hub.db, site_id=site_id, chat_pk=chat_pk))
        listener = Listener()

        async def watch() -> None:  # the client leaving ends the stream
            while (await receive())["type"] != "http.disconnect":
                pass
            listener.gone = True
            listener.wake.set()

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            for channel in channels:
                await hub.join(channel, listener)
        except (RedisError, OSError):
            watcher.cancel()
            for channel in channels:
                await hub.leave(channel, listener)
            await _json(send, 503, {"error": "unavailable"})
            return
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send(
                {
                    "type": "http.response.body",
                    "body": f"retry: {RETRY_MS}\n\n".encode(),
                    "more_body": True,
                }
            )
            loop = asyncio.get_running_loop()
            ends = loop.time() + STREAM_MAX_S * random.uniform(0.8, 1.0)  # noqa: S311
            while not listener.gone:
                left = ends - loop.time()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(listener.wake.wait(), min(HEARTBEAT_S, left))
                except TimeoutError:
                    await send(
                        {"type": "http.response.body", "body": b": hb\n\n", "more_body": True}
                    )
                    continue
                listener.wake.clear()
                if listener.changed and not listener.gone:
                    listener.changed = False
                    await send(
                        {
                            "type": "http.response.body",
                            "body": b"data: changed\n\n",
                            "more_body": True,
                        }
                    )
            if not listener.gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away mid-send
            pass
        except asyncio.CancelledError:  # the server stops: the browser reconnects
            return
        finally:
            watcher.cancel()
            for channel in channels:
                await hub.leave(channel, listener)


application = StreamApp()
