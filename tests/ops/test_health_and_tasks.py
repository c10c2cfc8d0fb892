"""/healthz and background tasks on the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from sso_site.celery import app
from tenants.models import Site, UsedToken
from tenants.services import token_consume
from tenants.tasks import replay_purge_expired


def test_healthz_reports_database_and_broker(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}


def test_healthz_answers_503_when_the_broker_is_unreachable(
    client: Client, db: None, settings: SettingsWrapper
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unreachable"
    assert response.json()["database"] == "ok"


def test_token_consume_is_single_use_per_site(site: Site, other_site: Site) -> None:
    later = timezone.now() + timedelta(minutes=5)
    assert token_consume(site=site, kind="jwt_jti", value="abc", expires_at=later)
    assert not token_consume(site=site, kind="jwt_jti", value="abc", expires_at=later)
    assert token_consume(site=other_site, kind="jwt_jti", value="abc", expires_at=later)
    assert token_consume(site=site, kind="saml_assertion", value="abc", expires_at=later)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    with start_worker(app, perform_ping_check=False, loglevel="WARNING"):
        yield


def test_purge_task_runs_on_a_real_worker(site: Site, celery_worker: None) -> None:
    now = timezone.now()
    token_consume(site=site, kind="jwt_jti", value="old", expires_at=now - timedelta(seconds=1))
    token_consume(site=site, kind="jwt_jti", value="live", expires_at=now + timedelta(hours=1))

    deleted = replay_purge_expired.delay().get(timeout=20)

    assert deleted == 1
    assert list(UsedToken.objects.values_list("value", flat=True)) == ["live"]


def test_production_settings_pass_the_deploy_checks() -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.production",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-of-sufficient-length",
        "ALLOWED_HOSTS": "sso.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_database_connections_have_timeouts(db: None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("5s",)
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 3
    assert connection.settings_dict["ENGINE"] == "sso_site.db"


def test_a_query_the_server_never_answers_is_cut_client_side(
    db: None, settings: SettingsWrapper
) -> None:
    import time as clock

    from django.db import OperationalError, connection

    settings.SSO_DB_CLIENT_TIMEOUT = 1.0
    start = clock.monotonic()
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        # statement_timeout would stop it at 5 s: the client gives up first.
        cursor.execute("SELECT pg_sleep(4)")
    assert clock.monotonic() - start < 3
    connection.close()
