from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

# The OpenID provider fixtures, for sign-ins from inside and outside networks.
from tests.sso.oidc.conftest import oidc_agent, oidc_flow, oidc_settings, provider

__all__ = ["oidc_agent", "oidc_flow", "oidc_settings", "provider"]


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()  # lockout counters of earlier tests
    yield
    cache.clear()
