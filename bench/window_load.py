"""Load test of live updates: WINDOWS open chat windows (default 5,000) poll
at the window's own pace (every 1.5-1.7 s, every 0.8 s for 15 s after a
change) through real HTTP against gunicorn (2 workers x 16 threads,
keep-alive), while agents write MESSAGES_PER_S messages a second to random
chats. Reports the windows held (every poll answered, never 2 s without
one), the time from a new message to its display as the windows measure it
(median, p99, max), the server's CPU per window per minute, and the poll
latency.

Run: ``python -m bench.window_load`` (``WINDOWS``, ``DURATION_S``,
``MESSAGES_PER_S``; ``POLL_S`` polls at a fixed pace instead). The load
generator runs on the same machine and its CPU is reported apart; on 2 cores
it competes with the server, so the server's CPU per poll is the figure that
carries over to a machine of its own.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._setup import django_setup

WINDOWS = int(os.environ.get("WINDOWS", "5000"))
DURATION_S = float(os.environ.get("DURATION_S", "30"))
POLL_S = float(os.environ.get("POLL_S", "0"))  # 0: the window's own pace
MESSAGES_PER_S = float(os.environ.get("MESSAGES_PER_S", "4"))
# The window's pace (chats/templates/chats/window.html): keep them alike.
IDLE_S, IDLE_JITTER_S, BUSY_S, BUSY_FOR_S = 1.5, 0.2, 0.8, 15.0
TARGET_S = 2.0  # a new message shows within this
SERVER = ["sso_site.wsgi", "-k", "gthread", "--threads", "16", "-w", "2", "--preload"]
SERVER_ARGS = ["--keep-alive", "75", "--backlog", "4096", "--log-level", "warning"]
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in ticks
    return total / os.sysconf("SC_CLK_TCK")


def _server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [master, *kids]


class Connections:
    """A pool of keep-alive HTTP/1.1 connections, raw asyncio streams."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self, n: int) -> None:
        for _ in range(n):
            self.pool.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def get(
        self, path: str, token: str, *, cookie: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` with the window's ``token`` (or, given, a ``cookie``)."""
        reader, writer = await self.pool.get()
        try:
            credential = f"Cookie: {cookie}" if cookie else f"Authorization: Bearer {token}"
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{credential}\r\n\r\n"
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            raise
        finally:
            self.pool.put_nowait((reader, writer))
        return status, headers, body


def main() -> None:
    os.environ.setdefault("CONN_MAX_AGE", "60")
    django_setup()
    import json

    from campaigns.models import Campaign
    from chats.live import chat_version_current
    from chats.models import Chat, Message
    from chats.services import chat_start, message_post
    from chats.tokens import ChatCredential, chat_token_issue
    from tenants.models import Agent, Site

    site, _ = Site.objects.get_or_create(site_id=90003, defaults={"name": "Bench windows"})
    campaign, _ = Campaign.objects.get_or_create(site=site, name="Load")
    agent, _ = Agent.objects.get_or_create(site=site, email="load-agent@bench.example")
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
    base = f"/chat/{site.site_id}/{campaign.pk}/api/poll/"

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        # --preload: Django loads before the fork; a worker still booting
        # would be counted in the measured CPU and hold up the first polls.
        [sys.executable, "-m", "gunicorn", *SERVER, "-b", f"127.0.0.1:{port}", *SERVER_ARGS],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sso_site.settings.test"},
    )
    sent_at: dict[int, float] = {}
    delays: list[float] = []
    latencies: list[float] = []
    answers = {200: 0, 204: 0, "other": 0}
    # Per window: the longest time without an answered poll, and failures.
    gaps: dict[int, float] = {}
    failed: set[int] = set()
    measuring = {"since": float("inf")}

    def pace(busy_until: float) -> float:
        if POLL_S:
            return POLL_S
        if time.monotonic() < busy_until:
            return BUSY_S
        return IDLE_S + random.random() * IDLE_JITTER_S

    # The windows are open already and have seen everything: each starts
    # with its chat's current version (its first, full poll is behind it).
    versions = {
        c.pk: chat_version_current(site_id=site.site_id, campaign_pk=campaign.pk, chat_pk=c.pk)
        for c in chats
    }
    last_seen = max(Message.objects.filter(site=site).values_list("pk", flat=True), default=0)

    async def window(conns: Connections, chat_pk: int, stop: float) -> None:
        state: dict[str, Any] = {"after": last_seen, "v": versions[chat_pk]}
        busy_until = 0.0
        await asyncio.sleep(random.random() * pace(0.0))
        answered = time.monotonic()
        while time.monotonic() < stop:
            due = time.monotonic() + pace(busy_until)
            path = f"{base}?after={state['after']}&v={state['v']}"
            started = time.monotonic()
            try:
                status, headers, body = await conns.get(path, tokens[chat_pk])
            except (OSError, asyncio.IncompleteReadError):
                answers["other"] += 1
                failed.add(chat_pk)
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                continue
            now = time.monotonic()
            latencies.append(now - started)
            if answered >= measuring["since"]:
                gaps[chat_pk] = max(gaps.get(chat_pk, 0.0), now - answered)
            answered = now
            if status == 200:
                answers[200] += 1
                busy_until = now + BUSY_FOR_S
                state["v"] = headers.get("x-chat-version", "")
                for m in json.loads(body)["messages"]:
                    state["after"] = max(state["after"], m["id"])
                    if m["id"] in sent_at:
                        delays.append(now - sent_at.pop(m["id"]))
            elif status == 204:
                answers[204] += 1
            else:
                answers["other"] += 1
                failed.add(chat_pk)
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def agent_writes(stop: float) -> None:
        loop = asyncio.get_running_loop()
        while time.monotonic() < stop - 3:
            chat = random.choice(chats)
            message = await loop.run_in_executor(
                None,
                lambda c=chat: message_post(
                    site=site, chat=c, sender=Message.Sender.AGENT, text="hello", agent=agent
                ),
            )
            if message is not None:
                sent_at[message.pk] = time.monotonic()
            await asyncio.sleep(1.0 / MESSAGES_PER_S)

    async def run() -> tuple[float, float, float]:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        conns = Connections(port)
        await conns.open(CONNECTIONS)
        # Every connection answered once: the workers are up.
        probe = f"{base}?after=0&v={versions[chats[0].pk]}"
        await asyncio.gather(*(conns.get(probe, tokens[chats[0].pk]) for _ in range(CONNECTIONS)))
        warm = (POLL_S or IDLE_S + IDLE_JITTER_S) + 3
        stop = time.monotonic() + warm + DURATION_S
        tasks = [asyncio.ensure_future(window(conns, c.pk, stop)) for c in chats]
        await asyncio.sleep(warm)
        pids = _server_pids(server.pid)
        cpu0, own0, t0 = _cpu_seconds(pids), time.process_time(), time.monotonic()
        latencies.clear()
        answers.update({200: 0, 204: 0, "other": 0})
        delays.clear()
        failed.clear()
        measuring["since"] = t0
        await agent_writes(stop)
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0
        return _cpu_seconds(pids) - cpu0, time.process_time() - own0, elapsed

    try:
        server_cpu, client_cpu, elapsed = asyncio.run(run())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    report(server_cpu, client_cpu, elapsed, answers, latencies, delays, gaps, failed, sent_at)


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def report(
    server_cpu: float,
    client_cpu: float,
    elapsed: float,
    answers: dict[Any, int],
    latencies: list[float],
    delays: list[float],
    gaps: dict[int, float],
    failed: set[int],
    sent_at: dict[int, float],
) -> None:
    polls = answers[200] + answers[204]
    per_window_minute = server_cpu / WINDOWS / (elapsed / 60)
    held = sum(1 for pk, gap in gaps.items() if gap <= TARGET_S and pk not in failed)
    lat = sorted(latencies) or [0.0]
    pace = f"every {POLL_S} s" if POLL_S else f"every {IDLE_S}-{IDLE_S + IDLE_JITTER_S} s"
    print(f"windows {WINDOWS}, polling {pace}, {elapsed:.1f} s measured")
    print(
        f"windows held: {held} of {WINDOWS} (every poll answered, never {TARGET_S:.0f} s "
        f"without an answer)"
    )
    print(
        f"polls {polls} ({polls / elapsed:.0f}/s): {answers[204]} x 204 nothing new, "
        f"{answers[200]} x 200, {answers['other']} failed"
    )
    print(
        f"server CPU {server_cpu:.1f} s = {server_cpu / elapsed:.2f} cores, "
        f"{server_cpu / max(polls, 1) * 1000:.3f} ms per poll; "
        f"per window per minute {per_window_minute * 1000:.2f} ms CPU; "
        f"load generator {client_cpu / elapsed:.2f} cores"
    )
    print(
        f"poll latency median {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {_pct(lat, 0.99) * 1000:.1f} ms"
    )
    if delays:
        ordered = sorted(delays)
        print(
            f"new message shown after (measured by the windows): median "
            f"{statistics.median(ordered):.2f} s, p99 {_pct(ordered, 0.99):.2f} s, "
            f"max {ordered[-1]:.2f} s ({len(ordered)} messages, {len(sent_at)} not shown)"
        )


if __name__ == "__main__":
    main()
