"""Abandoned guest chats expire, so the console's list does not fill up.

A guest chat nobody took and nobody wrote in for ``SSO_GUEST_CHAT_IDLE_MINUTES``
is closed, with a system line the window shows. The Celery beat task
``chats.tasks.chats_expire_abandoned`` runs this every five minutes; it is
idempotent (a closed chat is never touched again), so a redelivered task is
harmless.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from chats.models import Chat, Message

BATCH = 1000


def chats_expire_abandoned(*, idle_minutes: int | None = None) -> int:
    """Close every site's abandoned guest chats; return how many."""
    minutes = idle_minutes if idle_minutes is not None else settings.SSO_GUEST_CHAT_IDLE_MINUTES
    cutoff = timezone.now() - timedelta(minutes=minutes)
    recent = Message.objects.filter(chat=OuterRef("pk"), created_at__gte=cutoff)
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Chat.objects.filter(
                    status=Chat.Status.WAITING,
                    visitor__isnull=True,
                    agent__isnull=True,
                    created_at__lt=cutoff,
                )
                .exclude(Exists(recent))
                .select_for_update(skip_locked=True)
                .values_list("pk", "site_id")[:BATCH]
            )
            if not batch:
                return closed
            Message.objects.bulk_create(
                Message(
                    site_id=site_id,
                    chat_id=pk,
                    sender=Message.Sender.SYSTEM,
                    text="The chat has ended after a while without activity.",
                )
                for pk, site_id in batch
            )
            closed += Chat.objects.filter(
                pk__in=[pk for pk, _ in batch], status=Chat.Status.WAITING
            ).update(status=Chat.Status.CLOSED)
