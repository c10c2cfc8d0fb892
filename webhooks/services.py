"""Emit events into the outbox; deliver them, one attempt at a time."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sso_site.outbound import ANY_NETWORK, OutboundRefusedError, outbound_request
from tenants.models import Site
from webhooks.models import (
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.selectors import endpoints_for
from webhooks.signing import secret_new, secret_open, signature

logger = logging.getLogger(__name__)

RESPONSE_MAX_BYTES = 64 * 1024
# Set by webhooks.tasks: how to enqueue a delivery (this layer cannot
# import Celery tasks defined above it without a cycle).
ENQUEUE: list[Any] = []


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def endpoint_create(
    *, site: Site, url: str, events: list[str] | None = None
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint of ``site``; return it and its raw secret (shown once)."""
    raw, encrypted, fingerprint = secret_new()
    endpoint = WebhookEndpoint(site=site, url=url, events=events or [])
    endpoint.secret_encrypted, endpoint.secret_fingerprint = encrypted, fingerprint
    endpoint.full_clean()
    endpoint.save()
    return endpoint, raw


def endpoint_secret_rotate(*, site: Site, endpoint: WebhookEndpoint) -> str:
    """Give ``endpoint`` a new secret; return it (shown once)."""
    if endpoint.site_id != site.pk:
        raise ValueError("an object of another site")
    raw, endpoint.secret_encrypted, endpoint.secret_fingerprint = secret_new()
    endpoint.save(update_fields=["secret_encrypted", "secret_fingerprint"])
    return raw


def event_emit(
    *, site: Site, kind: EventKind | str, payload: dict[str, Any]
) -> WebhookEvent | None:
    """Write ``kind`` into the outbox with a delivery per subscribed endpoint.

    Runs inside the caller's transaction (the change and its event commit
    or roll back together); the deliveries are enqueued after commit. A
    site without a subscribed endpoint writes nothing, and opens no
    savepoint (every sign-in asks).
    """
    endpoint_pks = endpoints_for(site=site, kind=kind)
    if not endpoint_pks:
        return None
    return _event_write(site=site, kind=kind, payload=payload, endpoint_pks=endpoint_pks)


@transaction.atomic
def _event_write(
    *, site: Site, kind: EventKind | str, payload: dict[str, Any], endpoint_pks: list[int]
) -> WebhookEvent:
    event = WebhookEvent.objects.create(site=site, kind=kind, payload=payload)
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(site=site, event=event, endpoint_id=pk, next_attempt_at=now)
            for pk in endpoint_pks
        ]
    )
    for delivery in deliveries:
        _enqueue_on_commit(delivery.pk)
    return event


def _enqueue_on_commit(delivery_pk: int, *, countdown: float = 0) -> None:
    def send() -> None:
        for enqueue in ENQUEUE:
            enqueue(delivery_pk, countdown)

    # robust: a broker that is down must not turn a committed sign-in into
    # an error; the row is pending and the sweep picks it up.
    transaction.on_commit(send, robust=True)


def delivery_body(event: WebhookEvent) -> bytes:
    """Return the JSON body of ``event``, the same bytes on every attempt."""
    document = {
        "id": str(event.event_id),
        "type": event.kind,
        "site_id": event.site.site_id,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def backoff_seconds(attempt: int) -> float:
    """Return the wait after failed attempt number ``attempt`` (1-based).

    Exponential with full jitter (AWS architecture blog): base * 2^(n-1),
    capped, then a random point in [half, whole] so that many deliveries
    failing together do not retry together.
    """
    base = float(_setting("SSO_WEBHOOK_BACKOFF_SECONDS", 30.0))
    cap = float(_setting("SSO_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600))
    wait: float = min(cap, base * 2.0 ** (attempt - 1))
    return wait / 2 + random.uniform(0, wait / 2)  # noqa: S311 - jitter, not a secret


def delivery_attempt(*, delivery_pk: int) -> str:
    """Make one attempt at a due, pending delivery; return its status.

    The row is locked for the attempt (``SKIP LOCKED``): a duplicate task
    finds it busy and leaves. A worker that dies mid-attempt rolls the
    transaction back, so the delivery stays pending and is sent again;
    receivers deduplicate by event ID.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint", "event__site")
            .filter(pk=delivery_pk, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"
        if delivery.next_attempt_at > timezone.now():
            return "not_due"
        status_code, error, elapsed = _post(delivery)
        return _record(delivery, status_code=status_code, error=error, elapsed=elapsed)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, float]:
    endpoint, event = delivery.endpoint, delivery.event
    secret = secret_open(endpoint.secret_encrypted)
    if secret is None:
        return None, "the endpoint's secret no longer decrypts", 0.0
    body = delivery_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sso-gateway-webhooks/1",
        "X-Signature": signature(secret, timestamp=timestamp, body=body),
        "X-Webhook-Id": str(event.event_id),
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Event": event.kind,
        "X-Webhook-Attempt": str(delivery.attempts + 1),
    }
    started = time.monotonic()
    allow_private = _setting("SSO_WEBHOOK_ALLOW_PRIVATE", False)
    try:
        fetched = outbound_request(
            "POST",
            endpoint.url,
            body=body,
            max_bytes=RESPONSE_MAX_BYTES,
            timeout=float(_setting("SSO_WEBHOOK_TIMEOUT_SECONDS", 10.0)),
            schemes=("https", "http") if allow_private else ("https",),
            allow_networks=ANY_NETWORK if allow_private else (),
            headers=headers,
        )
    except OutboundRefusedError as exc:
        return None, str(exc), time.monotonic() - started
    return fetched.status, "", time.monotonic() - started


def _record(
    delivery: WebhookDelivery, *, status_code: int | None, error: str, elapsed: float
) -> str:
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        site_id=delivery.site_id,
        delivery=delivery,
        number=delivery.attempts,
        status_code=status_code,
        error=error[:200],
        duration_ms=int(elapsed * 1000),
    )
    delivery.last_status_code, delivery.last_error = status_code, error[:200]
    now = timezone.now()
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.finished_at = WebhookDelivery.Status.SUCCEEDED, now
    elif delivery.attempts >= int(_setting("SSO_WEBHOOK_MAX_ATTEMPTS", 8)):
        delivery.status, delivery.finished_at = WebhookDelivery.Status.FAILED, now
        logger.warning(
            "webhook delivery failed delivery=%s attempts=%s", delivery.pk, delivery.attempts
        )
    else:
        wait = backoff_seconds(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        _enqueue_on_commit(delivery.pk, countdown=wait)
    delivery.save()
    return str(delivery.status)


def delivery_resend(*, site: Site, delivery: WebhookDelivery) -> None:
    """Send ``delivery`` again from the start (an operator's request)."""
    if delivery.site_id != site.pk:
        raise ValueError("an object of another site")
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            finished_at=None,
        )
        _enqueue_on_commit(delivery.pk)


def deliveries_sweep(*, grace_seconds: float = 60.0, limit: int = 500) -> int:
    """Enqueue pending deliveries overdue by ``grace_seconds``; return how many.

    Their task was lost: the broker was down at commit, or a worker died
    holding it. Enqueuing twice is harmless (the attempt locks the row
    and checks it is due).
    """
    cutoff: datetime = timezone.now() - timedelta(seconds=grace_seconds)
    pks = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=cutoff
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        for enqueue in ENQUEUE:
            enqueue(pk, 0)
    return len(pks)


def deliveries_purge(*, site: Site, before: datetime) -> int:
    """Delete ``site``'s events older than ``before`` with their deliveries and
    attempts; return how many deliveries. A pending delivery is kept: nothing
    is lost to retention.
    """
    old = WebhookEvent.objects.for_site(site).filter(created_at__lt=before)
    old = old.exclude(deliveries__status=WebhookDelivery.Status.PENDING)
    deleted = WebhookDelivery.objects.filter(event__in=old).count()
    old.delete()
    return deleted


def sign_in_emit(
    *, site: Site, audience: str, protocol: str, subject: str, reference: str = ""
) -> None:
    """Emit "agent/visitor signed in" (the session layer's one call)."""
    kind = EventKind.VISITOR_SIGNED_IN if audience == "visitor" else EventKind.AGENT_SIGNED_IN
    payload = {"subject": subject, "protocol": protocol, "reference": reference}
    event_emit(site=site, kind=kind, payload=payload)


def refusal_emit(*, site: Site | None, audience: str, protocol: str | None, reason: str) -> None:
    """Emit "sign-in refused" (render_refusal's one call); no subject, only the code."""
    if site is not None:
        payload = {"audience": audience, "protocol": protocol or "", "reason": reason}
        event_emit(site=site, kind=EventKind.SIGN_IN_REFUSED, payload=payload)
