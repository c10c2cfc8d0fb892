"""Real server processes for the operations tests: the production stack
(deploy/serve.py: nginx + gunicorn), bare gunicorn instances, a private
Redis, and a TCP proxy in front of PostgreSQL that a test can pause.

Nothing here stops or pauses the machine's shared PostgreSQL or Redis.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings

from deploy.serve import stream_command as serve_stream_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(port: int | None = None) -> str:
    """The URL of the test database (the one pytest-django created)."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{port or db.get('PORT') or 5432}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    env: dict[str, str] = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": str(settings.CACHES["default"]["LOCATION"]),
        "CELERY_BROKER_URL": str(settings.CACHES["default"]["LOCATION"]),
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def wait_for(url: str, seconds: float = 30.0, status: int | None = 200) -> None:
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(url, timeout=3).status_code
            if status is None or last == status:
                return
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} not up: {last}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """One app instance; yields its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "sso_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", status=None)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def stream_command(port: int) -> list[str]:
    """uvicorn serving the push streams (chats.stream), as ``make serve``
    runs it, but quieter and quicker to stop (uvicorn keeps an option's last
    value)."""
    return [
        *serve_stream_command(port),
        "--timeout-graceful-shutdown",
        "2",
        "--log-level",
        "warning",
    ]


@contextmanager
def stream_server(env: dict[str, str]) -> Iterator[str]:
    """The push stream server; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(stream_command(port), cwd=ROOT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def production_stack(
    env: dict[str, str], tmp: Path, instances: int = 1, workers: int = 2
) -> Iterator[str]:
    """nginx + gunicorn as ``make serve`` runs them; yields nginx's base URL."""
    port = free_port()
    command = [
        sys.executable,
        "deploy/serve.py",
        "--listen",
        f"127.0.0.1:{port}",
        "--app-port",
        str(free_port()),
        "--stream-port",
        str(free_port()),
        "--instances",
        str(instances),
        "--workers",
        str(workers),
        "--run-dir",
        str(tmp / "serve"),
        "--no-collectstatic",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", status=None)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def private_redis(tmp: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throw-away redis-server on a free port; yields its URL and process."""
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        _stop(process)


class PausableProxy:
    """A TCP proxy to ``target``; ``pause()`` stops moving bytes (connections
    stay open, as with a hung server), ``resume()`` moves them again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.running = threading.Event()
        self.running.set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def close(self) -> None:
        self.closed = True
        self.running.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        peers = {client: upstream, upstream: client}
        try:
            while not self.closed:
                if not self.running.is_set():
                    time.sleep(0.05)
                    continue
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
