"""How long a dry run takes (reported in the issue's closing note)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.test import Client

from tenants.models import Agent, Audience, Site
from tests.fixtures.saml import ResponseFactory
from troubleshoot.dryrun import jwt_dry_run, saml_dry_run

RUNS = 20


def _median_ms(run: Any) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = run()
        times.append((time.perf_counter() - started) * 1000)
        assert report.ok, (report.reason, report.failed_check)
    return statistics.median(times)


def test_dry_run_is_fast(
    client: Client,
    saml_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    jwt_configure: Any,
    jwt_factory: Any,
    admin_request: Any,
    other_site: Site,
) -> None:
    saml_response = saml_response_factory(saml_site)
    jwt_configure(other_site)
    token = jwt_factory(other_site)

    saml_ms = _median_ms(
        lambda: saml_dry_run(
            admin_request, site=saml_site, audience=Audience.AGENT, text=saml_response
        )
    )
    jwt_ms = _median_ms(lambda: jwt_dry_run(site=other_site, audience=Audience.AGENT, token=token))

    print(f"\ndry run median over {RUNS}: SAML {saml_ms:.1f} ms, JWT {jwt_ms:.1f} ms")
    assert saml_ms < 500
    assert jwt_ms < 200
