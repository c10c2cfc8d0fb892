"""Background work of the tenants app; tasks only call services."""

from __future__ import annotations

from celery import shared_task

from tenants.services import token_purge_expired


@shared_task  # type: ignore[untyped-decorator]
def replay_purge_expired() -> int:
    """Delete expired single-use records (JWT ``jti``, assertion IDs)."""
    return token_purge_expired()
