"""The session store (sso_site.session_store): one statement per new session."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sso_site.session_store import SessionStore


def test_a_new_session_is_one_insert(db: None) -> None:
    store = SessionStore()
    store["k"] = "v"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert [q["sql"].split(" ")[0] for q in queries] == ["INSERT"]
    assert SessionStore(store.session_key)["k"] == "v"


def test_a_taken_key_is_refused_and_leaves_the_transaction_usable(db: None) -> None:
    first = SessionStore()
    first["who"] = "first"
    first.save()
    taken = first.session_key
    second = SessionStore()
    second._session_key = taken
    second["who"] = "second"
    with transaction.atomic():
        with pytest.raises(CreateError):
            second.save(must_create=True)
        assert Session.objects.filter(session_key=taken).count() == 1  # still usable
    assert SessionStore(taken)["who"] == "first"  # the first session is untouched


def test_create_draws_another_key_when_one_is_taken(db: None) -> None:
    first = SessionStore()
    first.save()
    keys = iter([str(first.session_key), "z" * 32])
    store = SessionStore()
    store._get_new_session_key = lambda: next(keys)  # type: ignore[method-assign]
    store["who"] = "second"
    store.save()
    assert store.session_key == "z" * 32
    assert SessionStore("z" * 32)["who"] == "second"


def test_an_existing_session_is_updated(db: None) -> None:
    store = SessionStore()
    store["n"] = 1
    store.save()
    store["n"] = 2
    store.save()
    assert SessionStore(store.session_key)["n"] == 2
