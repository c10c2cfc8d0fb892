"""Redis down when an event commits: the change commits, nothing is lost.

A separate process whose Redis (broker and cache) is a closed port writes
an event; its enqueue fails after commit and is logged, the delivery stays
pending, and the sweep sends it once Redis answers again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tenants.models import Site
from tests.webhooks.receiver import Receiver, wait_for
from webhooks.models import WebhookDelivery
from webhooks.services import deliveries_sweep, endpoint_create

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, time
import django
django.setup()
from tenants.models import Site
from webhooks.services import event_emit
site = Site.objects.get(pk=int(sys.argv[1]))
start = time.monotonic()
event = event_emit(site=site, kind="agent.signed_in", payload={"subject": "s"})
print(json.dumps({"event": str(event.event_id), "seconds": time.monotonic() - start}))
"""


def test_event_written_while_redis_is_down_is_delivered_later(
    site: Site, receiver: Receiver, celery_worker: None, transactional_db: None
) -> None:
    endpoint_create(site=site, url=receiver.url)
    db = settings.DATABASES["default"]
    dead = "redis://127.0.0.1:1/0"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": dead,
        "CELERY_BROKER_URL": dead,
        "CELERY_RESULT_BACKEND": dead,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(site.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    written = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"event_emit + commit with Redis down: {written['seconds']:.2f} s")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert not receiver.received

    assert deliveries_sweep(grace_seconds=0) == 1  # Redis is back (this process's)
    wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists())
    assert [json.loads(r.body)["id"] for r in receiver.received] == [written["event"]]
