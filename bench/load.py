"""Load figures on the production setup (deploy/serve.py: nginx in front of
gunicorn with 2 sync workers per instance): 8 clients for 30 s on each of
/healthz, the chat window page, the window's poll and the agent JWT sign-in.
Prints requests per second, p50 and p99, and the errors (anything but the
expected status). Run: ``make load`` or ``python -m bench.load``
(``LOAD_CLIENTS``, ``LOAD_SECONDS``, ``SERVE_INSTANCES`` to change).

The servers run the production settings on the ``sso_bench`` database with
rate limits raised: this measures throughput, not the limits.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-" + "k" * 50
os.environ["SECRET_KEY"] = SECRET_KEY

from bench._setup import django_setup  # noqa: E402

Request = Callable[[], tuple[str, str, bytes, dict[str, str]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fixtures() -> dict[str, Request]:
    """Create the bench site; return a request maker per measured endpoint."""
    import jwt

    from campaigns.models import Campaign
    from chats.models import Chat, Message
    from chats.services import chat_start
    from chats.tokens import ChatCredential, chat_token_issue
    from sso.jwt.models import JwtSettings
    from sso_site.secret_store import secret_encrypt, secret_fingerprint
    from tenants.models import Agent, Audience, Site

    site, _ = Site.objects.get_or_create(site_id=90011, defaults={"name": "Bench load"})
    campaign, _ = Campaign.objects.get_or_create(
        site=site, name="Load", defaults={"signin_mode": "none"}
    )
    Agent.objects.get_or_create(site=site, email="agent@bench.example")
    secret = uuid.uuid4().hex * 2
    JwtSettings.objects.update_or_create(
        site=site,
        audience=Audience.AGENT,
        defaults={
            "enabled": True,
            "login_url": "https://login.bench.example/",
            "algorithm": "HS256",
            "secret_encrypted": secret_encrypt(secret),
            "secret_fingerprint": secret_fingerprint(secret),
        },
    )
    Chat.objects.filter(site=site).delete()
    chat = chat_start(site=site, campaign=campaign, visitor=None)
    for n in range(20):
        Message.objects.create(site=site, chat=chat, sender="visitor", text=f"message {n}")
    token = chat_token_issue(ChatCredential(site.pk, campaign.pk, chat.pk, None))
    window = f"/chat/{site.site_id}/{campaign.pk}/"
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def agent_jwt() -> tuple[str, str, bytes, dict[str, str]]:
        now = int(time.time())
        claims = {
            "email": "agent@bench.example",
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
        }
        body = b"jwt=" + jwt.encode(claims, secret, "HS256").encode()
        return "POST", f"/sso/{site.site_id}/agent/jwt/", body, form

    return {
        "/healthz": lambda: ("GET", "/healthz", b"", {}),
        "chat window page": lambda: ("GET", window, b"", {}),
        "window poll": lambda: (
            "GET",
            f"{window}api/poll/?after=0",
            b"",
            {"Authorization": f"Bearer {token}"},
        ),
        "agent JWT sign-in": agent_jwt,
    }


EXPECTED = {"/healthz": 200, "chat window page": 200, "window poll": 200, "agent JWT sign-in": 302}


def run(port: int, make: Request, expected: int, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            method, path, body, headers = make()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expected
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            mine.append(time.perf_counter() - start)
            failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begun
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": statistics.median(ordered) * 1e3,
        "p99": ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1e3,
        "errors": errors[0],
    }


def main() -> int:
    django_setup()
    makers = fixtures()
    from django.conf import settings

    clients = int(os.environ.get("LOAD_CLIENTS", "8"))
    seconds = float(os.environ.get("LOAD_SECONDS", "30"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.production",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": str(settings.CACHES["default"]["LOCATION"]),
        "SSO_RATE_SIGNIN_IP": "100000000/m",
        "SSO_RATE_SIGNIN_SITE": "100000000/m",
    }
    with tempfile.TemporaryDirectory() as run_dir:
        server = subprocess.Popen(  # noqa: S603 (our own script)
            [
                sys.executable,
                "deploy/serve.py",
                "--listen",
                f"127.0.0.1:{port}",
                "--app-port",
                str(free_port()),
                "--run-dir",
                run_dir,
                "--no-collectstatic",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("load: the production setup did not come up", file=sys.stderr)
                    return 1
                time.sleep(0.3)
            instances = os.environ.get("SERVE_INSTANCES", "2")
            print(
                f"production setup: nginx -> {instances} gunicorn instance(s) x 2 sync workers;"
                f" {clients} clients, {seconds:.0f} s per endpoint"
            )
            print(
                f"{'endpoint':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} errors"
            )
            failed = 0
            for name, make in makers.items():
                run(port, make, EXPECTED[name], clients, min(seconds, 2.0))  # warm up
                r = run(port, make, EXPECTED[name], clients, seconds)
                failed += int(r["errors"])
                print(
                    f"{name:<20} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f}"
                    f" {int(r['requests']):9d} {int(r['errors'])}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
