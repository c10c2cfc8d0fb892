"""Signed webhook deliveries on a real Celery worker (Redis) to real local receivers."""

from __future__ import annotations

import json
import socket
import time

import pytest
from django.db import transaction

from tenants.models import Site
from tests.webhooks.receiver import Receiver, wait_for
from webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services import delivery_resend, endpoint_create, event_emit
from webhooks.signing import signature_verify


def _deliveries(status: str) -> int:
    return WebhookDelivery.objects.filter(status=status).count()


def test_signature_verifies_with_the_sites_secret_and_fails_with_another(
    site: Site, receiver: Receiver, celery_worker: None, fast_retries: object
) -> None:
    _endpoint, secret = endpoint_create(site=site, url=receiver.url)
    _, other_secret = endpoint_create(
        site=site, url=receiver.url + "/other", events=["agent.provisioned"]
    )

    event = event_emit(site=site, kind=EventKind.AGENT_SIGNED_IN, payload={"subject": "x"})
    assert event is not None

    wait_for(lambda: _deliveries("succeeded") == 1)
    [got] = receiver.received
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert headers["x-webhook-id"] == str(event.event_id)
    assert headers["x-webhook-event"] == "agent.signed_in"
    ts, sig = headers["x-webhook-timestamp"], headers["x-signature"]
    assert signature_verify(secret, timestamp=ts, body=got.body, header=sig, now=time.time())
    assert not signature_verify(
        other_secret, timestamp=ts, body=got.body, header=sig, now=time.time()
    )
    # a changed body, or the same signature replayed later, fails too
    assert not signature_verify(
        secret, timestamp=ts, body=got.body + b" ", header=sig, now=time.time()
    )
    assert not signature_verify(
        secret, timestamp=ts, body=got.body, header=sig, now=time.time() + 3600
    )
    document = json.loads(got.body)
    assert document["id"] == str(event.event_id)
    assert document["type"] == "agent.signed_in"
    assert document["site_id"] == site.site_id


def test_receiver_failing_three_times_then_succeeding_gets_one_success_of_four_attempts(
    site: Site, receiver: Receiver, celery_worker: None, fast_retries: object
) -> None:
    receiver.script = [500, 503, 502]
    endpoint_create(site=site, url=receiver.url)

    event_emit(site=site, kind=EventKind.SIGN_IN_REFUSED, payload={"reason": "replay"})

    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(status="succeeded").first(), timeout=30
    )
    assert delivery.attempts == 4
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [a.status_code for a in attempts] == [500, 503, 502, 200]
    assert len({r.headers["X-Webhook-Id"] for r in receiver.received}) == 1
    assert [r.headers["X-Webhook-Attempt"] for r in receiver.received] == ["1", "2", "3", "4"]
    time.sleep(1.0)  # no stray retry after the success
    assert len(receiver.received) == 4


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_receiver_down_exhausts_retries_marks_failed_and_loses_nothing(
    site: Site, receiver: Receiver, celery_worker: None, fast_retries: object
) -> None:
    endpoint, _ = endpoint_create(site=site, url=_closed_port_url())

    event = event_emit(site=site, kind=EventKind.AGENT_PROVISIONED, payload={"agent_id": 1})
    assert event is not None

    delivery = wait_for(lambda: WebhookDelivery.objects.filter(status="failed").first(), 30)
    assert delivery.attempts == 4
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 4
    assert all(a.status_code is None and a.error for a in delivery.attempt_rows.all())
    assert WebhookEvent.objects.filter(pk=event.pk).exists()  # kept, not lost

    # The receiver is back: an operator re-sends it from the admin.
    endpoint.url = receiver.url
    endpoint.save()
    delivery_resend(site=site, delivery=delivery)
    wait_for(lambda: _deliveries("succeeded") == 1)
    assert json.loads(receiver.received[0].body)["id"] == str(event.event_id)


def test_event_rolled_back_with_its_change_is_never_sent(
    site: Site, receiver: Receiver, celery_worker: None, fast_retries: object
) -> None:
    endpoint_create(site=site, url=receiver.url)

    def change_that_fails() -> None:
        with transaction.atomic():
            event_emit(site=site, kind=EventKind.SETTINGS_CHANGED, payload={})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    event_emit(site=site, kind=EventKind.SETTINGS_CHANGED, payload={"n": 2})

    wait_for(lambda: _deliveries("succeeded") == 1)
    time.sleep(0.5)
    assert WebhookEvent.objects.count() == 1
    assert [json.loads(r.body)["data"] for r in receiver.received] == [{"n": 2}]


def test_a_site_without_endpoints_writes_no_event(site: Site) -> None:
    assert event_emit(site=site, kind=EventKind.AGENT_SIGNED_IN, payload={}) is None
    assert not WebhookEvent.objects.exists()
