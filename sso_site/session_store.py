"""Django's database session backend, with one statement per new session.

- No read before each new session: Django's
  ``SessionBase._get_new_session_key()`` asks the store whether a random key
  exists before using it, one SELECT per new session, on every sign-in. The
  keys are 32 characters of ``[a-z0-9]`` (165 bits) from ``secrets``, as
  Django draws them, and the insert itself refuses a duplicate.
- A new session is one ``INSERT ... ON CONFLICT DO NOTHING``, committed on
  its own, where Django sends BEGIN, INSERT and COMMIT: a taken key inserts
  nothing (``create()`` then draws another) and, unlike a failed plain
  INSERT, leaves an enclosing transaction usable, so it needs neither a
  transaction nor a savepoint of its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import connections, router
from django.utils.crypto import get_random_string


class SessionStore(DbSessionStore):
    """The database session store; a new session costs one statement."""

    # Overrides SessionBase._get_new_session_key (not in Django's stubs).
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if must_create and self.session_key is not None:
            self._insert()  # from create(), which retries on CreateError
        else:
            super().save(must_create=must_create)

    def _insert(self) -> None:
        """Insert the session as a new row; raise CreateError if its key is taken."""
        base: Any = self  # SessionBase._get_session (not in Django's stubs)
        row = self.create_model_instance(base._get_session(no_load=True))
        using = router.db_for_write(self.model, instance=row)
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = self.model._meta
        column = {f.name: f.column for f in meta.concrete_fields}
        names = ", ".join(quote(column[c]) for c in ("session_key", "session_data", "expire_date"))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({names})"  # noqa: S608 (the model's own names)
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [row.session_key, row.session_data, row.expire_date])
            if cursor.rowcount != 1:
                raise CreateError
