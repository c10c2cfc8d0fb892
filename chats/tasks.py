"""Background work of the chats app; tasks only call services."""

from __future__ import annotations

from celery import shared_task

from chats.expiry import chats_expire_abandoned as expire


@shared_task  # type: ignore[untyped-decorator]
def chats_expire_abandoned() -> int:
    """Close guest chats abandoned for ``SSO_GUEST_CHAT_IDLE_MINUTES``."""
    return expire()
