"""Which key verified a JWT sign-in (sso.jwt.keys): kept on Redis as a capped
list, pushed in one round trip per sign-in, read newest first.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches
from django.test import Client

from sso.jwt.keys import KEY_USE_KEEP, VerificationKey, key_use_recent, key_use_record
from tenants.models import Agent, Site
from tests.fixtures.jwt import JwtFactory, callback_url


def test_a_sign_in_pushes_onto_a_redis_list(
    site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    config = jwt_configure(site)
    response = Client().get(callback_url(site), {"jwt": jwt_factory(site)})
    assert response.status_code == 302
    assert [label for _, label in key_use_recent(config=config)] == ["current"]
    backend: Any = caches["default"]
    client = backend._cache.get_client(write=True)
    assert client.type(backend.make_key(f"sso:jwt:keyuses:{config.pk}")) == b"list"


def test_the_last_few_uses_are_kept_newest_first(site: Site, jwt_configure: Any) -> None:
    config = jwt_configure(site)
    for n in range(KEY_USE_KEEP + 3):
        key_use_record(config=config, key=VerificationKey(kid="", key=None, label=f"k{n}"))
    recent = key_use_recent(config=config)
    assert len(recent) == KEY_USE_KEEP
    assert recent[0][1] == f"k{KEY_USE_KEEP + 2}"
    assert recent[-1][1] == "k3"


def test_a_copy_of_the_newest_entry_is_not_pushed(site: Site, jwt_configure: Any) -> None:
    """Issue 19: an entry is (second, key label); a second sign-in with the
    same key in the same second costs no Redis round trip, while a use of
    another key in between is kept in order.
    """
    config = jwt_configure(site)
    while time.time() % 1 > 0.5:  # the calls below fall within one second
        time.sleep(0.05)
    current = VerificationKey(kid="", key=None, label="current")
    upcoming = VerificationKey(kid="", key=None, label="next")
    for key in (current, current, current, upcoming, current, current):
        key_use_record(config=config, key=key)
    assert [label for _, label in key_use_recent(config=config)] == ["current", "next", "current"]
