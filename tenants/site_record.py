"""One small record per site and process, current while the site's version is.

Every sign-in needs the same few facts about its site: the site row (is it
usable?), the protocol's settings (JWT, SAML), the access policy, the mapping rules,
whether groups map to roles, the webhook endpoints. Each used to cost a
query or a shared-cache read. Here they are kept in each process, as the
*parts* of one record per site, and checked against one version stamp per
site in the shared cache (Redis): one GET per request, however many parts
it reads.

Every write of something a record holds gives the site a new version: the
models that feed records say so with ``site_record_feeds(Model)`` (their
saves and deletes, by signal) and their querysets' ``update()`` and bulk
writes (``tenants.models``). The version is written at once and again when
the transaction commits, so every process reloads at its next request for
that site, the saving one included.

Where the record could be wrong, it is not trusted:

- data a transaction read after changing it could still be rolled back: such
  a record serves that transaction only (see ``_pending_marker``);
- without the shared cache nothing is kept, every part is read afresh;
- a record older than ``SSO_SITE_RECORD_MAX_AGE`` seconds is reloaded
  anyway (a version write lost while Redis was down is then outlived);
- at most ``SSO_SITE_RECORD_SITES`` records (2,000) are kept, least
  recently used first out: about 11 KB each for a JWT site (RS256 key,
  default mappings) and 13 KB more for a site's SAML settings (its IdP
  metadata as entered and as derived, SP certificate and sealed key;
  tracemalloc, a 3.6 KB metadata document), so some 22-48 MB per process
  at most.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A version that expires only costs each process one reload.
VERSION_TIMEOUT = 7 * 24 * 3600
_MISSING = object()


def _max_sites() -> int:
    return int(getattr(settings, "SSO_SITE_RECORD_SITES", 2000))


def _max_age() -> float:
    return float(getattr(settings, "SSO_SITE_RECORD_MAX_AGE", 300))


def site_version_key(site_pk: int) -> str:
    """Return the shared-cache key of site ``site_pk``'s version stamp."""
    return f"sso:site-version:{site_pk}"


class _Committed:
    """The on-commit half of a version bump; while it is pending, the
    transaction that registered it has changed the site and not committed.
    """

    __slots__ = ("site_pk",)

    def __init__(self, site_pk: int) -> None:
        self.site_pk = site_pk

    def __call__(self) -> None:
        _version_write(self.site_pk)


@dataclass(slots=True)
class SiteRecord:
    """What this process holds of one site at one version."""

    site_pk: int
    version: str
    loaded_at: float
    epoch: int
    # Set when read by a transaction that changed the site: valid for it only.
    marker: _Committed | None = None
    parts: dict[str, Any] = field(default_factory=dict)


_lock = threading.Lock()
_records: OrderedDict[int, SiteRecord] = OrderedDict()
# Bumped by every version bump in this process: a record a request holds
# stops serving parts as soon as the request itself changes the site.
_epochs: dict[int, int] = {}
# Per thread (a transaction is its thread's connection's): site pk -> the
# pending on-commit bump of this thread's open transaction.
_local = threading.local()
# Per request: the records already checked (one version read per site).
_request: contextvars.ContextVar[dict[int, SiteRecord] | None] = contextvars.ContextVar(
    "sso_site_records", default=None
)


def _version_write(site_pk: int) -> None:
    try:
        cache.set(site_version_key(site_pk), uuid.uuid4().hex, VERSION_TIMEOUT)
    except Exception:  # the record's age limit bounds what a lost write costs
        logger.warning("site record version not written site=%s", site_pk)


def site_version_bump(site_pk: int) -> None:
    """Give site ``site_pk`` a new version, now and once the transaction commits.

    The write at commit is the one other processes need: one that read the
    old data before the commit tagged it with the version then current.
    """
    _epochs[site_pk] = _epochs.get(site_pk, 0) + 1
    with _lock:
        _records.pop(site_pk, None)
    _version_write(site_pk)
    if _pending_marker(site_pk) is not None:
        return  # this transaction's commit writes a new version already
    marker = _Committed(site_pk)
    if connection.in_atomic_block:
        _pending()[site_pk] = marker
    transaction.on_commit(marker)


def _pending() -> dict[int, _Committed]:
    pending: dict[int, _Committed] | None = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = {}
    return pending


def _pending_marker(site_pk: int) -> _Committed | None:
    """Return this thread's uncommitted bump of ``site_pk``, if still pending.

    Pending means its transaction (or savepoint) has neither committed nor
    rolled back: Django drops the callbacks of what rolls back.
    """
    pending: dict[int, _Committed] | None = getattr(_local, "pending", None)
    if not pending:
        return None
    marker = pending.get(site_pk)
    if marker is None:
        return None
    # Entries are (savepoint ids, callback, robust).
    if connection.in_atomic_block and any(entry[1] is marker for entry in connection.run_on_commit):
        return marker
    del pending[site_pk]
    return None


def _version_read(site_pk: int) -> str | None:
    key = site_version_key(site_pk)
    try:
        version: str | None = cache.get(key)
        if version is None:
            cache.add(key, uuid.uuid4().hex, VERSION_TIMEOUT)
            version = cache.get(key)
    except Exception:  # the cache is an optimisation: without it, read afresh
        logger.warning("site record version unavailable site=%s", site_pk)
        with _lock:
            _records.clear()  # versions may move unseen meanwhile
        return None
    return version


def site_record(site_pk: int) -> SiteRecord | None:
    """Return this process's record of site ``site_pk``, current, or None.

    None when there is no shared cache to check it against. Within a
    request, the version is read once per site.
    """
    epoch = _epochs.get(site_pk, 0)
    memo = _request.get()
    if memo is not None:
        held = memo.get(site_pk)
        if held is not None and held.epoch == epoch:
            return held
    version = _version_read(site_pk)
    if version is None:
        return None
    marker = _pending_marker(site_pk)
    now = time.monotonic()
    with _lock:
        record = _records.get(site_pk)
        if (
            record is None
            or record.version != version
            or record.marker is not marker
            or record.epoch != epoch
            or now - record.loaded_at > _max_age()
        ):
            record = SiteRecord(site_pk, version, now, epoch, marker)
            _records[site_pk] = record
            while len(_records) > _max_sites():
                _records.popitem(last=False)
        else:
            _records.move_to_end(site_pk)
    if memo is not None:
        memo[site_pk] = record
    return record


def site_part(site_pk: int, name: str, load: Callable[[], T]) -> T:
    """Return part ``name`` of site ``site_pk``'s record, ``load()``-ing it
    when this process has no current copy.

    What ``load`` returns is shared by every request of the process: return
    values nobody changes (tuples, frozen objects, field values), never a
    model instance.
    """
    record = site_record(site_pk)
    if record is None:
        return load()
    value = record.parts.get(name, _MISSING)
    if value is _MISSING:
        value = record.parts[name] = load()
    return cast("T", value)


# Public site ID -> primary key, as last seen by this process. A stale entry
# (a site deleted, or its ID given to another) is caught by the caller,
# which compares the ID of the row it leads to (from the current record).
_public_ids: dict[int, int] = {}


def site_pk_for_public_id(site_id: int) -> int | None:
    """Return the primary key this process last saw for public ``site_id``."""
    return _public_ids.get(site_id)


def site_pk_remember(site_id: int, pk: int) -> None:
    """Remember that public ``site_id`` is the site of primary key ``pk``."""
    if len(_public_ids) >= 10 * _max_sites():
        _public_ids.clear()
    _public_ids[site_id] = pk


def site_records_clear(**kwargs: Any) -> None:
    """Forget every record of this process.

    Also run after every ``migrate`` and ``flush`` (``post_migrate``): rows
    may have changed or gone without a signal, so nothing held of them is
    current.
    """
    with _lock:
        _records.clear()
        _public_ids.clear()


def site_records_held() -> int:
    """Return how many site records this process holds."""
    return len(_records)


def site_record_feeds(model: type[models.Model], *, site_field: str = "site_id") -> None:
    """Declare that rows of ``model`` feed their site's record.

    Each save or delete of one gives the site (``site_field`` of the row) a
    new version; so do the bulk writes of its queryset, which send no
    signal (``tenants.models.SiteScopedQuerySet``).
    """
    model.site_record_field = site_field  # type: ignore[attr-defined]

    def changed(sender: Any, instance: models.Model, **kwargs: Any) -> None:
        site_pk = getattr(instance, site_field)
        if site_pk is not None:
            site_version_bump(int(site_pk))

    uid = f"site-record-{model._meta.label_lower}"
    post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-saved", weak=False)
    post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-deleted", weak=False)


def _request_began(**kwargs: Any) -> None:
    _request.set({})


def _request_ended(**kwargs: Any) -> None:
    _request.set(None)


post_migrate.connect(site_records_clear, dispatch_uid="site-record-database-replaced")
request_started.connect(_request_began, dispatch_uid="site-record-request-started")
request_finished.connect(_request_ended, dispatch_uid="site-record-request-finished")
