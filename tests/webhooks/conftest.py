from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def fast_retries(settings):
    settings.SSO_WEBHOOK_BACKOFF_SECONDS = 0.2
    settings.SSO_WEBHOOK_BACKOFF_MAX_SECONDS = 1.0
    settings.SSO_WEBHOOK_MAX_ATTEMPTS = 4
    settings.SSO_WEBHOOK_TIMEOUT_SECONDS = 5.0
    return settings
