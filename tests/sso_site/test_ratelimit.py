"""The rate-limit counting (sso_site.ratelimit) on the real Redis: every rule
of a request in one round trip, on django-ratelimit's own counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import RequestFactory
from django.urls import resolve
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from sso_site.ratelimit import RULES, _over_limit
from tests.fixtures.cache import app_cache_clear


@pytest.fixture
def sent() -> Iterator[list[str]]:
    """Collect the name of each Redis command sent."""
    names: list[str] = []
    original = redis.Redis.execute_command

    def counting(self: Any, *args: Any, **options: Any) -> Any:
        names.append(str(args[0]))
        return original(self, *args, **options)

    redis.Redis.execute_command = counting  # type: ignore[method-assign]
    yield names
    redis.Redis.execute_command = original  # type: ignore[method-assign]


def _callback(address: str = "192.0.2.7") -> Any:
    request = RequestFactory().post("/sso/4711/agent/jwt/", REMOTE_ADDR=address)
    request.resolver_match = resolve("/sso/4711/agent/jwt/")
    return request


def test_every_rule_of_a_sign_in_is_counted_in_one_command(sent: list[str]) -> None:
    app_cache_clear()
    rules = RULES["sso:agent-jwt"]
    assert len(rules) == 2  # per address and per site
    _over_limit(_callback(), rules)  # the script is loaded once per server
    sent.clear()
    assert _over_limit(_callback(), rules) is None
    assert sent == ["EVALSHA"]
    app_cache_clear()


def test_the_counters_are_django_ratelimits_own(settings_limits: None) -> None:
    """Counted either way, a request lands on the same counter: a limit
    reached through one is reached for the other.
    """
    rules = RULES["sso:agent-jwt"]
    assert _over_limit(_callback(), rules) is None
    usage = get_usage(
        _callback(),
        group="sso:signin_ip",
        key="ip",
        rate=settings.SSO_RATE_LIMITS["signin_ip"],
        increment=False,
    )
    assert usage["count"] == 1
    assert _over_limit(_callback(), rules) is None
    over = _over_limit(_callback(), rules)  # the third: over 2/m
    assert over is not None
    assert over[0] == "signin_ip"
    assert 1 <= over[1] <= 60
    assert _over_limit(_callback("192.0.2.8"), rules) is None  # another address


@pytest.fixture
def settings_limits(settings: Any, db: None) -> Iterator[None]:
    app_cache_clear()
    settings.SSO_RATE_LIMITS = {
        **settings.SSO_RATE_LIMITS,
        "signin_ip": "2/m",
        "signin_site": "50/m",
    }
    yield
    app_cache_clear()
