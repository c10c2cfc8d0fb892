"""Load test of live updates: WINDOWS open chat windows (default 5,000) poll
every POLL_S seconds (1.2, as the window does) through real HTTP against
gunicorn (2 workers x 16 threads, keep-alive), while an agent writes a
message to a random chat every second. Reports the server's CPU per window
per minute, the poll latency, and how long a new message takes to show.

Run: ``python -m bench.window_load`` (``WINDOWS``, ``DURATION_S``, ``POLL_S``
override the defaults). The load generator runs on the same machine and its
CPU is reported apart; on 2 cores it competes with the server.
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
POLL_S = float(os.environ.get("POLL_S", "1.2"))
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

    async def get(self, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await self.pool.get()
        try:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
            )
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
        [
            sys.executable,
            "-m",
            "gunicorn",
            "sso_site.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "16",
            "--keep-alive",
            "75",
            "--backlog",
            "4096",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sso_site.settings.test"},
    )
    sent_at: dict[int, float] = {}
    delays: list[float] = []
    latencies: list[float] = []
    answers = {200: 0, 204: 0, "other": 0}

    # The windows are open already and have seen everything: each starts
    # with its chat's current version (its first, full poll is behind it).
    versions = {
        c.pk: chat_version_current(site_id=site.site_id, campaign_pk=campaign.pk, chat_pk=c.pk)
        for c in chats
    }
    last_seen = max(Message.objects.filter(site=site).values_list("pk", flat=True), default=0)

    async def window(conns: Connections, chat_pk: int, stop: float) -> None:
        state: dict[str, Any] = {"after": last_seen, "v": versions[chat_pk]}
        await asyncio.sleep(random.random() * POLL_S)
        while time.monotonic() < stop:
            due = time.monotonic() + POLL_S
            path = f"{base}?after={state['after']}&v={state['v']}"
            started = time.monotonic()
            try:
                status, headers, body = await conns.get(path, tokens[chat_pk])
            except (OSError, asyncio.IncompleteReadError):
                answers["other"] += 1
                await asyncio.sleep(POLL_S)
                continue
            latencies.append(time.monotonic() - started)
            if status == 200:
                answers[200] += 1
                state["v"] = headers.get("x-chat-version", "")
                for m in json.loads(body)["messages"]:
                    state["after"] = max(state["after"], m["id"])
                    if m["id"] in sent_at:
                        delays.append(time.monotonic() - sent_at.pop(m["id"]))
            elif status == 204:
                answers[204] += 1
            else:
                answers["other"] += 1
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
            await asyncio.sleep(1.0)

    async def run() -> tuple[float, float, float]:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        conns = Connections(port)
        await conns.open(CONNECTIONS)
        warm = POLL_S + 1
        stop = time.monotonic() + warm + DURATION_S
        tasks = [asyncio.ensure_future(window(conns, c.pk, stop)) for c in chats]
        await asyncio.sleep(warm)
        pids = _server_pids(server.pid)
        cpu0, own0, t0 = _cpu_seconds(pids), time.process_time(), time.monotonic()
        latencies.clear()
        answers.update({200: 0, 204: 0, "other": 0})
        delays.clear()
        await agent_writes(stop)
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0
        return _cpu_seconds(pids) - cpu0, time.process_time() - own0, elapsed

    try:
        server_cpu, client_cpu, elapsed = asyncio.run(run())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    polls = answers[200] + answers[204]
    per_window_minute = server_cpu / WINDOWS / (elapsed / 60)
    lat = sorted(latencies) or [0.0]
    print(f"windows {WINDOWS}, poll every {POLL_S} s, {elapsed:.1f} s measured")
    print(
        f"polls {polls} ({polls / elapsed:.0f}/s; target {WINDOWS / POLL_S:.0f}/s): "
        f"{answers[204]} x 204 nothing new, {answers[200]} x 200, {answers['other']} failed"
    )
    print(
        f"server CPU {server_cpu:.1f} s = {server_cpu / elapsed:.2f} cores; "
        f"per window per minute {per_window_minute * 1000:.2f} ms CPU; "
        f"load generator {client_cpu / elapsed:.2f} cores"
    )
    print(
        f"poll latency median {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {lat[int(len(lat) * 0.95) - 1] * 1000:.1f} ms"
    )
    if delays:
        ordered = sorted(delays)
        print(
            f"new message shown after: median {statistics.median(ordered):.2f} s, "
            f"max {ordered[-1]:.2f} s ({len(ordered)} messages, {len(sent_at)} not seen)"
        )


if __name__ == "__main__":
    main()
