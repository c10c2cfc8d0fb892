from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from sso_site.celery import app
from tests.sso.jwt.conftest import (  # noqa: F401 - fixtures shared with the JWT tests
    jwks_server,
    jwt_agent,
    jwt_configure,
    jwt_factory,
    keyring,
)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    with start_worker(app, perform_ping_check=False, loglevel="WARNING"):
        yield
