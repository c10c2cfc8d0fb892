"""Webhook deliveries per second that one Celery worker process sustains.

A real worker (``-P solo``: one process, one delivery at a time) on the
Redis broker posts signed events to a local receiver that answers 200 at
once; the time from commit to the last delivery marked succeeded is the
measure. ``WEBHOOK_BENCH_EVENTS`` sets how many (default 1000).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench._setup import django_setup

ROOT = Path(__file__).resolve().parent.parent


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _wait(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def main() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sso_life_bench")
    os.environ.setdefault("CONN_MAX_AGE", "60")  # persistent connections, as in production
    django_setup()
    from django.conf import settings
    from django.db import transaction

    from tenants.models import Site
    from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from webhooks.services import endpoint_create, event_emit

    count = int(os.environ.get("WEBHOOK_BENCH_EVENTS", "1000"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site, _ = Site.objects.get_or_create(site_id=90002, defaults={"name": "Webhook bench"})
    WebhookEvent.objects.filter(site=site).delete()
    WebhookEndpoint.objects.filter(site=site).delete()
    endpoint_create(site=site, url=f"http://127.0.0.1:{httpd.server_address[1]}/hook")
    command = [sys.executable, "-m", "celery", "-A", "sso_site", "worker", "-P", "solo"]
    command += ["--without-mingle", "--without-gossip", "-l", "WARNING"]
    worker = subprocess.Popen(command, cwd=ROOT)  # noqa: S603
    try:
        done = WebhookDelivery.objects.filter(site=site, status="succeeded")
        event_emit(site=site, kind="agent.signed_in", payload={"warm": True})
        _wait(lambda: done.count() == 1, 60)  # the worker is up
        with transaction.atomic():
            for number in range(count):
                event_emit(site=site, kind="agent.signed_in", payload={"n": number})
        start = time.perf_counter()
        _wait(lambda: done.count() == count + 1, 600)
        elapsed = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        httpd.shutdown()
    print(f"broker {settings.CELERY_BROKER_URL.rsplit('@', 1)[-1]}: {count} deliveries")
    print(f"one worker (solo pool): {count / elapsed:8.1f} deliveries/s  ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
