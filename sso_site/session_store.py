"""Django's database session backend, without a read before each new session.

Django's ``SessionBase._get_new_session_key()`` asks the store whether a
random key exists before using it: for the database backend one SELECT per
new session, on every sign-in. The database backend needs no such check:
``create()`` inserts with ``must_create``, the primary key refuses a
duplicate, and ``create()`` then draws another key. The keys are 32
characters of ``[a-z0-9]`` (165 bits) from ``secrets``, as Django draws them.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DbSessionStore):
    """The database session store; a new key costs no query."""

    # Overrides SessionBase._get_new_session_key (not in Django's stubs).
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
