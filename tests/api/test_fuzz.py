"""schemathesis against the live schema: generated requests, bounded in
examples and time, must never get a server error, an undocumented status or
a response that breaks the schema.

Settings writes are left out: they fetch the URLs they are given (SAML
metadata, JWKS), and generated URLs must not leave this machine. Their
validation is tested by hand in test_settings.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenants.models import Site
from tests.api.conftest import TokenFactory
from tests.factories import AgentFactory, CampaignFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _wsgi_keeps_test_connection(db: None) -> Iterator[None]:
    # As Django's test client does: the WSGI handler would otherwise close
    # the test's database connection (and its transaction) after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# The whole run stays well under 90 s: few examples per operation, and a
# budget after which the remaining operations are skipped (on a loaded machine).
FUZZ_BUDGET_SECONDS = 70.0
_started: list[float] = []


@pytest.fixture
def fuzz_headers(site: Site, token_factory: TokenFactory, settings: Any) -> dict[str, str]:
    if not _started:
        _started.append(time.monotonic())
    elif time.monotonic() - _started[0] > FUZZ_BUDGET_SECONDS:
        pytest.skip("fuzzing time budget spent")
    settings.SSO_API_RATE = "100000/min"
    AgentFactory.create(site=site)
    CampaignFactory.create(site=site)
    _, raw = token_factory(site)
    return {"Authorization": f"Bearer {raw}"}


# Loaded once at collection; generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler()).exclude(
    method=["PUT", "PATCH"], path_regex=r"settings|/site/$"
)


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.usefixtures("_wsgi_keeps_test_connection")
def test_api_conforms_to_its_schema(case: Any, fuzz_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)


@pytest.mark.usefixtures("_wsgi_keeps_test_connection")
def test_api_stateful_workflows(fuzz_headers: dict[str, str]) -> None:
    """Sequences of calls along the links schemathesis infers (an object
    created by POST, then read, changed, deleted through its ID)."""
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": fuzz_headers}

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=8,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
