"""Which endpoints of a site want events, without a query per sign-in.

Every sign-in and refusal asks; almost always the answer has not changed.
As the mapping rules do, each process keeps its own copy tagged with a
version held in the shared cache (Redis); a change to an endpoint gives the
site a new version, now and after commit. Without the cache, the database
answers.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

from tenants.models import Site
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)

VERSION_TIMEOUT = 24 * 3600
LOCAL_MAX_SITES = 2048
# site pk -> (version, ((endpoint pk, subscribed kinds), ...))
_local: dict[int, tuple[str, tuple[tuple[int, tuple[str, ...]], ...]]] = {}


def _key(site_pk: int) -> str:
    return f"sso:webhooks:endpoints:{site_pk}"


def _load(site: Site) -> tuple[tuple[int, tuple[str, ...]], ...]:
    rows = WebhookEndpoint.objects.for_site(site).filter(is_active=True).order_by("pk")
    return tuple((pk, tuple(events or ())) for pk, events in rows.values_list("pk", "events"))


def endpoints_for(*, site: Site, kind: str) -> list[int]:
    """Return the pks of ``site``'s active endpoints subscribed to ``kind``."""
    try:
        version: str | None = cache.get(_key(site.pk))
        if version is None:
            cache.add(_key(site.pk), uuid.uuid4().hex, VERSION_TIMEOUT)
            version = cache.get(_key(site.pk))
    except Exception:  # the cache is an optimisation: without it, ask the database
        logger.warning("webhook endpoints version unavailable")
        version = None
    local = _local.get(site.pk)
    if local is not None and version is not None and local[0] == version:
        endpoints = local[1]
    else:
        endpoints = _load(site)
        if version is not None:
            if len(_local) >= LOCAL_MAX_SITES:
                _local.clear()
            _local[site.pk] = (version, endpoints)
    return [pk for pk, events in endpoints if not events or kind in events]


def endpoints_forget(*, site_pk: int) -> None:
    """Give ``site``'s endpoints a new version, now and once the transaction commits."""

    def bump() -> None:
        try:
            cache.set(_key(site_pk), uuid.uuid4().hex, VERSION_TIMEOUT)
        except Exception:
            logger.warning("webhook endpoints version not bumped")

    bump()
    transaction.on_commit(bump)
