"""Failing parts, on real server processes: PostgreSQL hanging behind a
paused proxy, Redis stopped. Pages answer a clear 503 (JSON for JSON
callers), /healthz answers within 2 s, and everything recovers without a
restart. The machine's shared PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from campaigns.models import Campaign
from tenants.models import Audience, Site
from tests.factories import CampaignFactory, SiteFactory
from tests.fixtures.chats import VISITOR_SECRET, jwt_settings_create, make_jwt
from tests.ops.servers import (
    PausableProxy,
    database_url,
    private_redis,
    production_stack,
    server_env,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def window_site(transactional_db: None) -> tuple[Site, Campaign]:
    site = SiteFactory.create(site_id=10001, name="Site A")
    jwt_settings_create(site, audience=Audience.VISITOR, secret=VISITOR_SECRET)
    campaign = CampaignFactory.create(site=site, signin_mode="optional", visitor_sso="jwt")
    return site, campaign


@pytest.fixture
def proxy() -> Iterator[PausableProxy]:
    proxy = PausableProxy(("127.0.0.1", 5432))
    yield proxy
    proxy.close()


def timed_get(url: str, **kwargs: object) -> tuple[requests.Response, float]:
    start = time.monotonic()
    response = requests.get(url, timeout=20, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - start


def test_postgres_hanging_gives_503_fast_and_recovers(
    window_site: tuple[Site, Campaign], proxy: PausableProxy, tmp_path: Path
) -> None:
    site, campaign = window_site
    env = server_env(
        DATABASE_URL=database_url(proxy.port),
        CONN_MAX_AGE="60",  # persistent connections, as in production
        DB_CONNECT_TIMEOUT="2",
        DB_CLIENT_TIMEOUT="2",
    )
    window = f"/chat/{site.site_id}/{campaign.pk}/"
    with production_stack(env, tmp_path) as base:
        wait_for(f"{base}/healthz")
        assert requests.get(base + window, timeout=10).status_code == 200

        proxy.pause()
        health, took = timed_get(f"{base}/healthz")
        assert health.status_code == 503
        assert took < 2.0
        assert health.json()["database"] == "timeout"

        page, took = timed_get(base + window)
        assert page.status_code == 503
        assert "service_unavailable" in page.text
        assert page.headers["Retry-After"]
        assert took < 8.0
        api, _ = timed_get(base + window + "api/state/", headers={"Accept": "application/json"})
        assert api.status_code == 503
        assert api.json() == {"error": "service_unavailable"}

        proxy.resume()
        wait_for(f"{base}/healthz", seconds=15)
        assert requests.get(base + window, timeout=10).status_code == 200


def test_visitor_sign_in_without_redis_is_a_clear_503_then_works_again(
    window_site: tuple[Site, Campaign], tmp_path: Path
) -> None:
    site, campaign = window_site
    with private_redis(tmp_path) as (redis_url, redis_process):
        env = server_env(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
        callback = f"/sso/{site.site_id}/visitor/jwt/?campaign={campaign.pk}"
        with production_stack(env, tmp_path) as base:
            wait_for(f"{base}/healthz")
            signed_in = requests.post(
                base + callback,
                data={"jwt": make_jwt()},
                headers={"Accept": "application/json"},
                timeout=10,
            )
            assert signed_in.status_code == 200, signed_in.text
            assert signed_in.json()["status"] == "signed_in"

            redis_process.terminate()
            redis_process.wait(timeout=10)
            health, took = timed_get(f"{base}/healthz")
            assert health.status_code == 503
            assert health.json()["cache"] == "unreachable"
            assert took < 2.0

            # The window's JWT sign-in: JSON 503, not a 500.
            as_json = requests.post(
                base + callback,
                data={"jwt": make_jwt()},
                headers={"Accept": "application/json"},
                timeout=10,
            )
            assert as_json.status_code == 503
            assert as_json.json() == {"error": "service_unavailable"}
            # The popup's sign-in: redirected to the handoff page, which says 503.
            popup = requests.Session()
            step = popup.post(base + callback, data={"jwt": make_jwt()}, timeout=10)
            assert step.status_code == 503
            assert "service_unavailable" in step.text
            # The window page itself needs no Redis.
            window = f"{base}/chat/{site.site_id}/{campaign.pk}/"
            assert requests.get(window, timeout=10).status_code == 200

            # Redis back on the same address: sign-in works, no restart.
            port = redis_url.rsplit(":", 1)[1].split("/")[0]
            again = subprocess.Popen(
                ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
            )
            try:
                wait_for(f"{base}/healthz", seconds=15)
                back = requests.post(
                    base + callback,
                    data={"jwt": make_jwt()},
                    headers={"Accept": "application/json"},
                    timeout=10,
                )
                assert back.status_code == 200
                assert back.json()["status"] == "signed_in"
            finally:
                again.terminate()
                again.wait(timeout=10)
