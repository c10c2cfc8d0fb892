"""Webhook deliveries on Celery; each task calls a service."""

from __future__ import annotations

from celery import shared_task

from webhooks.services import ENQUEUE, deliveries_sweep, delivery_attempt


# acks_late + reject_on_worker_lost: a worker killed mid-delivery leaves the
# message unacknowledged, so the broker hands it to another worker; the row
# stays pending (its transaction rolled back), and the sweep re-enqueues it too.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]
def webhook_deliver(delivery_pk: int) -> str:
    """Make one attempt at delivery ``delivery_pk``."""
    return delivery_attempt(delivery_pk=delivery_pk)


@shared_task(ignore_result=True)  # type: ignore[untyped-decorator]
def webhook_deliveries_sweep() -> int:
    """Re-enqueue pending deliveries whose task was lost."""
    return deliveries_sweep()


def _enqueue(delivery_pk: int, countdown: float) -> None:
    # No publish retries: with the broker down they would hold the request
    # that committed the event; the row is pending and the sweep sends it.
    webhook_deliver.apply_async((delivery_pk,), countdown=countdown or None, retry=False)


def register() -> None:
    """Let the services enqueue deliveries through this module's task."""
    if _enqueue not in ENQUEUE:
        ENQUEUE.append(_enqueue)
