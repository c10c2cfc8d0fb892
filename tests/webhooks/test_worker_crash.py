"""A worker killed mid-delivery: the delivery is sent again, nothing lost.

Real Celery worker processes on the Redis broker; the first is killed with
SIGKILL while the receiver holds its request open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tenants.models import Site
from tests.webhooks.receiver import Receiver, wait_for
from webhooks.models import WebhookDelivery
from webhooks.services import deliveries_sweep, endpoint_create, event_emit

ROOT = Path(__file__).resolve().parents[2]


def _worker() -> subprocess.Popen[bytes]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    command = [sys.executable, "-m", "celery", "-A", "sso_site", "worker", "-P", "solo"]
    command += ["--without-mingle", "--without-gossip", "-l", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


@pytest.fixture
def workers(transactional_db: None) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def test_worker_killed_mid_delivery_redelivers(
    site: Site, receiver: Receiver, workers: list, settings
) -> None:
    settings.SSO_WEBHOOK_MAX_ATTEMPTS = 4
    receiver.hang_seconds = 60.0  # the first request is held open
    endpoint_create(site=site, url=receiver.url)
    event = event_emit(site=site, kind="agent.signed_in", payload={"subject": "s"})
    assert event is not None

    workers.append(_worker())
    wait_for(lambda: len(receiver.received) == 1, timeout=60)
    workers[0].send_signal(signal.SIGKILL)  # mid-delivery
    workers[0].wait(timeout=10)

    delivery = WebhookDelivery.objects.get()
    # The attempt's transaction died with the worker: still pending.
    wait_for(lambda: WebhookDelivery.objects.filter(status="pending", attempts=0).exists())
    workers.append(_worker())
    # The beat's sweep (every minute) finds the lost task's delivery.
    assert deliveries_sweep(grace_seconds=0) == 1

    wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), timeout=60)
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    ids = {r.headers["X-Webhook-Id"] for r in receiver.received}
    assert ids == {str(event.event_id)}  # the same event twice: receivers deduplicate by ID
    assert len(receiver.received) == 2
