"""Nearly free "nothing new" polls for the chat window.

Each open chat has a version in Redis (the shared cache), keyed by the
window's URL (public site ID, campaign) and the chat. A poll that carries the
version it last saw, still current, is answered 204 after one signature
check and one Redis GET: no database work at all. Any change the window
would show (a message, hence also a status change, a sign-in request, a
visitor joining) deletes the key once its transaction commits; the next poll
then reads the database and gets a fresh version.

Ordering makes it safe: a full poll reads (or creates) the version *before*
it reads the database, and a change removes the version *after* it commits,
so a window never keeps a version that hides a committed change.
The key expires after ``VERSION_TTL`` seconds, so a full poll happens at least
that often (a disabled site or campaign is noticed within that time).
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

VERSION_TTL = 60


def chat_version_key(*, site_id: int, campaign_pk: int, chat_pk: int) -> str:
    return f"chats:v:{site_id}:{campaign_pk}:{chat_pk}"


def chat_version_current(*, site_id: int, campaign_pk: int, chat_pk: int) -> str:
    """Return the chat's current version, creating one if there is none."""
    key = chat_version_key(site_id=site_id, campaign_pk=campaign_pk, chat_pk=chat_pk)
    version = secrets.token_hex(8)
    if cache.add(key, version, timeout=VERSION_TTL):
        return version
    current = cache.get(key)
    return str(current) if current else version


def chat_version_is(*, site_id: int, campaign_pk: int, chat_pk: int, version: str) -> bool:
    """Return whether ``version`` is still the chat's current one (one GET)."""
    if not version or len(version) > 32:
        return False
    key = chat_version_key(site_id=site_id, campaign_pk=campaign_pk, chat_pk=chat_pk)
    return bool(cache.get(key) == version)


def chat_version_bump(*, site_id: int, campaign_pk: int, chat_pk: int) -> None:
    """Forget the chat's version once the current transaction commits."""
    key = chat_version_key(site_id=site_id, campaign_pk=campaign_pk, chat_pk=chat_pk)
    transaction.on_commit(lambda: cache.delete(key))
