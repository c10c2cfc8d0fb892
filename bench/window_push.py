"""Load test of live updates by push: WINDOWS open chat windows (default
5,000) each hold a Server-Sent Events stream on the stream server (uvicorn,
``chats.stream``, one process) and make the window's slow safety poll
(every SAFETY_S s) through gunicorn (2 workers x 16 threads, keep-alive),
while agents write MESSAGES_PER_S messages a second to random chats. On
"changed" a window polls at once, as the real one does, and reads the
message from Django.

Reports: the windows held (stream open the whole time, every poll answered,
every message of its chat shown within 2 s); the time from an agent's
message (taken before it is written) to its display, as the windows measure
it (median, p99, max); the CPU per window per minute of the stream server
and of gunicorn, apart; the stream server's memory; and what opening the
streams cost.

AGENTS agents (default 100) each have one of those chats open in the
console: a console stream (opened with the console's ticket) and the
console's safety poll; on "changed" the console polls (through Django, with
the agent's session) as the real one does. Visitors type in those chats
TYPING_PER_S times a second (pushed to the consoles only); reported: the
consoles held, their polls, and the time from a visitor's typing to the
console's poll showing it.

Run: ``python -m bench.window_push`` (``WINDOWS``, ``DURATION_S``,
``MESSAGES_PER_S``, ``SAFETY_S``, ``AGENTS``, ``TYPING_PER_S``). The load generator runs on the same
machine and its CPU is reported apart. nginx is not in the path: it would
add its own (small) CPU per connection and per event.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._setup import django_setup
from bench.window_load import (
    SERVER,
    SERVER_ARGS,
    Connections,
    _cpu_seconds,
    _free_port,
    _pct,
    _server_pids,
)

WINDOWS = int(os.environ.get("WINDOWS", "5000"))
DURATION_S = float(os.environ.get("DURATION_S", "60"))
MESSAGES_PER_S = float(os.environ.get("MESSAGES_PER_S", "4"))
SAFETY_S = float(os.environ.get("SAFETY_S", "25"))  # settings.SSO_CHAT_SAFETY_POLL_S
AGENTS = int(os.environ.get("AGENTS", "100"))
TYPING_PER_S = float(os.environ.get("TYPING_PER_S", "2"))
TARGET_S = 2.0
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
OPENING_AT_ONCE = 100
ROOT = Path(__file__).resolve().parents[1]
STREAM = [
    "-m",
    "uvicorn",
    "chats.stream:application",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--backlog",
    "4096",
    "--timeout-graceful-shutdown",
    "2",
    "--log-level",
    "warning",
]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_port(port: int) -> None:
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port}")


async def _open_stream(port: int, path: str) -> asyncio.StreamReader:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        writer.close()
        raise OSError(f"stream refused: {status}")
    reader._writer = writer  # type: ignore[attr-defined]  # kept open with it
    return reader


def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    if hard < WINDOWS * 2 + 500:
        print(f"note: file limit {hard} is low for {WINDOWS} windows", flush=True)
    os.environ.setdefault("CONN_MAX_AGE", "60")
    django_setup()
    import json
    from importlib import import_module

    from django.conf import settings
    from django.test import RequestFactory

    from campaigns.models import Campaign
    from chats.live import chat_version_current
    from chats.models import Chat, Message
    from chats.presence import chat_typing_set
    from chats.services import chat_start, message_post
    from chats.tokens import ChatCredential, chat_token_issue, console_ticket_issue
    from sso_site.signin.identity import VerifiedIdentity
    from sso_site.signin.session import sign_in
    from tenants.models import Agent, Audience, Protocol, Site

    site, _ = Site.objects.get_or_create(site_id=90004, defaults={"name": "Bench push"})
    campaign, _ = Campaign.objects.get_or_create(site=site, name="Push")
    agent, _ = Agent.objects.get_or_create(site=site, email="push-agent@bench.example")
    Chat.objects.filter(site=site).delete()
    template = chat_start(site=site, campaign=campaign, visitor=None)
    Chat.objects.bulk_create(
        [Chat(site=site, campaign=campaign, group="general") for _ in range(WINDOWS - 1)]
    )
    chats = list(Chat.objects.filter(site=site).order_by("pk"))
    assert template in chats
    tokens = {
        c.pk: chat_token_issue(ChatCredential(site.pk, campaign.pk, c.pk, None)) for c in chats
    }
    window_base = f"/chat/{site.site_id}/{campaign.pk}/api/"
    versions = {
        c.pk: chat_version_current(site_id=site.site_id, campaign_pk=campaign.pk, chat_pk=c.pk)
        for c in chats
    }
    last_seen = max(Message.objects.filter(site=site).values_list("pk", flat=True), default=0)
    # The agents, each signed in (a session) with one chat open in the console.
    console_agents = []
    for n in range(min(AGENTS, len(chats))):
        each, _ = Agent.objects.get_or_create(site=site, email=f"push-agent-{n}@bench.example")
        request = RequestFactory().get("/")
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        identity = VerifiedIdentity(
            site=site, audience=Audience.AGENT, protocol=Protocol.JWT, subject=each.email
        )
        sign_in(request, identity=identity)
        request.session.save()
        cookie = f"{settings.SESSION_COOKIE_NAME}={request.session.session_key}"
        console_agents.append((each, chats[n], cookie))

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sso_site.settings.test"}
    app_port, stream_port = _free_port(), _free_port()
    app = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", *SERVER, "-b", f"127.0.0.1:{app_port}", *SERVER_ARGS],
        cwd=ROOT,
        env=env,
    )
    stream = subprocess.Popen(  # noqa: S603
        [sys.executable, *STREAM, "--port", str(stream_port)], cwd=ROOT, env=env
    )

    sent_at: dict[int, tuple[int, float]] = {}  # message pk -> (chat pk, written at)
    delays: list[float] = []
    writes: list[float] = []  # message written and published, of the delays above
    writing: dict[int, float] = {}  # chat pk -> when its message's write began
    pushed: list[float] = []  # from then to the window reading "changed"
    full_polls: list[float] = []  # the time of each poll that answered 200
    late: set[int] = set()
    failed: set[int] = set()
    answers = {200: 0, 204: 0, "other": 0, "pushes": 0}
    figures: dict[str, float] = {}
    pending: set[asyncio.Future[None]] = set()  # polls a push started
    consoles = {"polls": 0, "pushes": 0, "failed": 0, "opened": 0}
    console_polls: list[float] = []  # the time of each console poll
    typing_at: dict[int, float] = {}  # chat pk -> when its visitor's typing was set
    typing_pushed: list[float] = []  # from then to the console reading "changed"
    typing_shown: list[float] = []  # ... to the console's poll showing it
    console_failed: set[int] = set()

    async def window(conns: Connections, chat_pk: int, reader: asyncio.StreamReader) -> None:
        state: dict[str, Any] = {"after": last_seen, "v": versions[chat_pk], "busy": False}

        async def poll() -> None:
            if state["busy"]:
                state["again"] = True
                return
            state["busy"] = True
            try:
                while True:
                    state["again"] = False
                    path = f"{window_base}poll/?after={state['after']}&v={state['v']}"
                    asked = time.monotonic()
                    try:
                        status, headers, body = await conns.get(path, tokens[chat_pk])
                    except (OSError, asyncio.IncompleteReadError):
                        answers["other"] += 1
                        failed.add(chat_pk)
                        return
                    now = time.monotonic()
                    if status == 204:
                        answers[204] += 1
                    elif status == 200:
                        answers[200] += 1
                        full_polls.append(now - asked)
                        state["v"] = headers.get("x-chat-version", "")
                        for m in json.loads(body)["messages"]:
                            state["after"] = max(state["after"], m["id"])
                            if m["id"] in sent_at:
                                delay = now - sent_at.pop(m["id"])[1]
                                delays.append(delay)
                                if delay > TARGET_S:
                                    late.add(chat_pk)
                    else:
                        answers["other"] += 1
                        failed.add(chat_pk)
                    if not state["again"]:
                        return
            finally:
                state["busy"] = False

        async def safety() -> None:
            await asyncio.sleep(random.random() * SAFETY_S)
            while True:
                await poll()
                await asyncio.sleep(SAFETY_S + random.random() * 2)

        safety_task = asyncio.ensure_future(safety())
        try:
            while True:
                line = await reader.readline()
                if not line:  # the stream ended
                    failed.add(chat_pk)
                    return
                if line.startswith(b"data: changed"):
                    answers["pushes"] += 1
                    if chat_pk in writing:
                        pushed.append(time.monotonic() - writing.pop(chat_pk))
                    task = asyncio.ensure_future(poll())
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        except (OSError, asyncio.IncompleteReadError):
            failed.add(chat_pk)
        finally:
            safety_task.cancel()

    async def console(
        conns: Connections, chat_pk: int, cookie: str, reader: asyncio.StreamReader
    ) -> None:
        state: dict[str, Any] = {"after": last_seen, "busy": False, "again": False}

        async def poll() -> None:
            if state["busy"]:
                state["again"] = True
                return
            state["busy"] = True
            try:
                while True:
                    state["again"] = False
                    path = f"/console/chats/{chat_pk}/poll/?after={state['after']}"
                    asked = time.monotonic()
                    try:
                        status, _headers, body = await conns.get(path, "", cookie=cookie)
                    except (OSError, asyncio.IncompleteReadError):
                        consoles["failed"] += 1
                        console_failed.add(chat_pk)
                        return
                    now = time.monotonic()
                    consoles["polls"] += 1
                    console_polls.append(now - asked)
                    if status != 200:
                        consoles["failed"] += 1
                        console_failed.add(chat_pk)
                        return
                    data = json.loads(body)
                    for m in data["messages"]:
                        state["after"] = max(state["after"], m["id"])
                    if data["visitor_typing"] and chat_pk in typing_at:
                        typing_shown.append(now - typing_at.pop(chat_pk))
                    if not state["again"]:
                        return
            finally:
                state["busy"] = False

        async def safety() -> None:
            await asyncio.sleep(random.random() * SAFETY_S)
            while True:
                await poll()
                await asyncio.sleep(SAFETY_S + random.random() * 2)

        safety_task = asyncio.ensure_future(safety())
        try:
            while True:
                line = await reader.readline()
                if not line:
                    console_failed.add(chat_pk)
                    return
                if line.startswith(b"data: changed"):
                    consoles["pushes"] += 1
                    if chat_pk in typing_at:
                        typing_pushed.append(time.monotonic() - typing_at[chat_pk])
                    task = asyncio.ensure_future(poll())
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        except (OSError, asyncio.IncompleteReadError):
            console_failed.add(chat_pk)
        finally:
            safety_task.cancel()

    async def visitors_type(stop: float) -> None:
        loop = asyncio.get_running_loop()
        while console_agents and time.monotonic() < stop - 3:
            _agent, chat, _cookie = random.choice(console_agents)
            started = time.monotonic()
            typing_at[chat.pk] = started
            await loop.run_in_executor(
                None,
                lambda c=chat: chat_typing_set(site=site, chat=c, side=Message.Sender.VISITOR),
            )
            await asyncio.sleep(max(0.0, started + 1.0 / TYPING_PER_S - time.monotonic()))

    async def agent_writes(stop: float) -> None:
        loop = asyncio.get_running_loop()
        while time.monotonic() < stop - 3:
            chat = random.choice(chats)
            written = time.monotonic()  # before the write: its cost counts too
            writing[chat.pk] = written
            message = await loop.run_in_executor(
                None,
                lambda c=chat: message_post(
                    site=site, chat=c, sender=Message.Sender.AGENT, text="hello", agent=agent
                ),
            )
            if message is not None:
                sent_at[message.pk] = (chat.pk, written)
                writes.append(time.monotonic() - written)
            await asyncio.sleep(max(0.0, written + 1.0 / MESSAGES_PER_S - time.monotonic()))

    async def run() -> None:
        _wait_port(app_port)
        _wait_port(stream_port)
        conns = Connections(app_port)
        await conns.open(CONNECTIONS)
        # Warm every worker thread up with full polls (its database
        # connection, Django's first-use set-up): measured, the first full
        # polls on cold threads took up to 2.8 s, all at once.
        for _ in range(4):
            await asyncio.gather(
                *(
                    conns.get(f"{window_base}poll/?after=0&v=", tokens[c.pk])
                    for c in chats[:CONNECTIONS]
                )
            )
        rss0 = _rss_mb(stream.pid)
        stream_pids, app_pids = [stream.pid], _server_pids(app.pid)
        cpu_open0, t_open0 = _cpu_seconds(stream_pids), time.monotonic()
        readers: dict[int, asyncio.StreamReader] = {}
        gate = asyncio.Semaphore(OPENING_AT_ONCE)

        async def open_one(chat_pk: int) -> None:
            async with gate:
                path = f"{window_base}stream/?t={tokens[chat_pk]}"
                try:
                    readers[chat_pk] = await _open_stream(stream_port, path)
                except (OSError, asyncio.IncompleteReadError):
                    failed.add(chat_pk)

        await asyncio.gather(*(open_one(c.pk) for c in chats))
        figures["open_s"] = time.monotonic() - t_open0
        figures["open_cpu"] = _cpu_seconds(stream_pids) - cpu_open0
        figures["opened"] = len(readers)
        tasks = [asyncio.ensure_future(window(conns, pk, r)) for pk, r in readers.items()]
        # The consoles' streams: a ticket each (good for a minute), as the
        # console asks one before it opens the stream.
        cpu_console0 = _cpu_seconds(stream_pids)
        for each, chat, cookie in console_agents:
            ticket = console_ticket_issue(agent_pk=each.pk, site_pk=site.pk, chat_pk=chat.pk)
            try:
                held = await _open_stream(
                    stream_port, f"/console/chats/{chat.pk}/stream/?t={ticket}"
                )
            except (OSError, asyncio.IncompleteReadError):
                console_failed.add(chat.pk)
                continue
            consoles["opened"] += 1
            tasks.append(asyncio.ensure_future(console(conns, chat.pk, cookie, held)))
        figures["console_open_cpu"] = _cpu_seconds(stream_pids) - cpu_console0
        await asyncio.sleep(3)  # the streams' first lines read; safety polls spread out
        failed.clear()
        console_failed.clear()
        console_polls.clear()
        answers.update({200: 0, 204: 0, "other": 0, "pushes": 0})
        consoles.update({"polls": 0, "pushes": 0, "failed": 0})
        figures["rss0"], figures["rss"] = rss0, _rss_mb(stream.pid)
        s0, a0, own0 = _cpu_seconds(stream_pids), _cpu_seconds(app_pids), time.process_time()
        t0 = time.monotonic()
        stop = t0 + DURATION_S
        await asyncio.gather(agent_writes(stop), visitors_type(stop))
        await asyncio.sleep(max(0.0, stop - time.monotonic()))
        elapsed = time.monotonic() - t0
        figures["stream_cpu"] = _cpu_seconds(stream_pids) - s0
        figures["app_cpu"] = _cpu_seconds(app_pids) - a0
        figures["own_cpu"] = time.process_time() - own0
        figures["elapsed"] = elapsed
        figures["rss_end"] = _rss_mb(stream.pid)
        for task in tasks:
            task.cancel()

    try:
        asyncio.run(run())
    finally:
        for server in (stream, app):
            server.send_signal(signal.SIGTERM)
        for server in (stream, app):
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    report(figures, answers, delays, late, failed, sent_at, writes, pushed, full_polls)
    report_consoles(figures, consoles, console_failed, console_polls, typing_pushed, typing_shown)


def report(
    f: dict[str, float],
    answers: dict[Any, int],
    delays: list[float],
    late: set[int],
    failed: set[int],
    sent_at: dict[int, tuple[int, float]],
    writes: list[float],
    pushed: list[float],
    full_polls: list[float],
) -> None:
    elapsed, minutes = f["elapsed"], f["elapsed"] / 60
    unshown = {chat_pk for chat_pk, _ in sent_at.values()}
    held = int(f["opened"]) - len(failed | late | unshown)
    polls = answers[200] + answers[204]
    print(f"windows {WINDOWS}, safety poll every {SAFETY_S:.0f} s, {elapsed:.1f} s measured")
    print(
        f"streams opened {int(f['opened'])} in {f['open_s']:.1f} s "
        f"({f['open_cpu'] / max(f['opened'], 1) * 1000:.2f} ms stream-server CPU each)"
    )
    print(
        f"windows held: {held} of {WINDOWS} (stream open throughout, every poll answered, "
        f"every message shown within {TARGET_S:.0f} s)"
    )
    print(
        f"pushes {answers['pushes']}; polls {polls} ({polls / elapsed:.0f}/s): "
        f"{answers[204]} x 204, {answers[200]} x 200, {answers['other']} failed"
    )
    for name, key in (("stream server", "stream_cpu"), ("gunicorn", "app_cpu")):
        cpu = f[key]
        print(
            f"{name} CPU {cpu:.2f} s = {cpu / elapsed:.3f} cores; per window per minute "
            f"{cpu / WINDOWS / minutes * 1000:.3f} ms"
        )
    print(f"load generator {f['own_cpu'] / elapsed:.2f} cores")
    print(
        f"stream server memory {f['rss0']:.0f} MB before the streams, {f['rss']:.0f} MB with "
        f"them ({(f['rss'] - f['rss0']) * 1024 / max(f['opened'], 1):.1f} KB per stream), "
        f"{f['rss_end']:.0f} MB at the end"
    )
    if delays:
        ordered = sorted(delays)
        print(
            f"new message shown after (measured by the windows): median "
            f"{statistics.median(ordered):.3f} s, p99 {_pct(ordered, 0.99):.3f} s, "
            f"max {ordered[-1]:.3f} s ({len(ordered)} messages, {len(sent_at)} not shown)"
        )
    for what, values in (
        ("the agent's write (insert, commit, publish)", writes),
        ("write to the window reading 'changed'", pushed),
        ("the window's poll that read it", full_polls),
    ):
        if values:
            ordered = sorted(values)
            print(
                f"  of which {what}: median {statistics.median(ordered):.3f} s, "
                f"p99 {_pct(ordered, 0.99):.3f} s, max {ordered[-1]:.3f} s"
            )


def report_consoles(
    f: dict[str, float],
    consoles: dict[str, int],
    failed: set[int],
    polls: list[float],
    typing_pushed: list[float],
    typing_shown: list[float],
) -> None:
    if not consoles["opened"]:
        return
    elapsed = f["elapsed"]
    held = consoles["opened"] - len(failed)
    print(
        f"consoles {AGENTS} (one open chat each): streams opened {consoles['opened']} "
        f"({f['console_open_cpu'] / consoles['opened'] * 1000:.2f} ms stream-server CPU each), "
        f"held {held}; visitors typing {TYPING_PER_S:g}/s in their chats"
    )
    print(
        f"  console pushes {consoles['pushes']}; console polls {consoles['polls']} "
        f"({consoles['polls'] / elapsed:.1f}/s, {consoles['polls'] / AGENTS / elapsed * 60:.1f} "
        f"per agent per minute), {consoles['failed']} failed"
    )
    for what, values in (
        ("console poll (full, through Django)", polls),
        ("visitor typing to the console reading 'changed'", typing_pushed),
        ("visitor typing to the console's poll showing it", typing_shown),
    ):
        if values:
            ordered = sorted(values)
            print(
                f"  {what}: median {statistics.median(ordered):.3f} s, "
                f"p99 {_pct(ordered, 0.99):.3f} s, max {ordered[-1]:.3f} s ({len(ordered)})"
            )


if __name__ == "__main__":
    main()
