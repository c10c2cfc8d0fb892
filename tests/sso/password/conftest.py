from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.cache import app_cache_clear


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    app_cache_clear()  # lockout counters and used TOTP codes of earlier tests
    yield
    app_cache_clear()
