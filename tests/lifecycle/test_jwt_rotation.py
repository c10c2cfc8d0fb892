"""Secret and key rotation with overlap, and the periodic JWKS refresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from lifecycle.models import JobRun, JwksRefresh
from lifecycle.services import key_rotation_start
from lifecycle.tasks import jwks_refresh_all, key_rotations_finish
from sso.jwt.keys import key_use_recent
from sso.jwt.models import JwtSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tests.fixtures.jwt import (
    JwksServer,
    JwtFactory,
    Keyring,
    callback_url,
    jwk,
    public_pem,
    reason_on_page,
)


def _status(site: Site, token: str) -> tuple[int, str]:
    response = Client().get(callback_url(site), {"jwt": token})
    return response.status_code, reason_on_page(response) if response.status_code != 302 else ""


def _window_over(config: JwtSettings) -> None:
    JwtSettings.objects.filter(pk=config.pk).update(
        rotation_ends_at=timezone.now() - timedelta(seconds=1)
    )


def test_hs256_rotation_both_secrets_work_in_the_window_then_only_the_new_one(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    celery_worker: None,
) -> None:
    config = jwt_configure(site, "HS256")
    old_fingerprint = config.secret_fingerprint

    new_secret = key_rotation_start(site=site, config=config, overlap=timedelta(hours=1))

    assert _status(site, jwt_factory(site, "HS256")) == (302, "")
    assert _status(site, jwt_factory(site, "HS256", key=new_secret)) == (302, "")
    assert [label for _, label in key_use_recent(config=config)][:2] == ["next", "current"]

    _window_over(config)  # the old secret is retired at once, job or not
    assert _status(site, jwt_factory(site, "HS256")) == (403, RefusalReason.JWT_BAD_SIGNATURE)
    assert _status(site, jwt_factory(site, "HS256", key=new_secret)) == (302, "")

    assert key_rotations_finish.delay().get(timeout=20) == 1
    config.refresh_from_db()
    assert config.rotation_ends_at is None
    assert not config.next_secret_encrypted
    assert config.secret_fingerprint != old_fingerprint
    assert _status(site, jwt_factory(site, "HS256")) == (403, RefusalReason.JWT_BAD_SIGNATURE)
    assert _status(site, jwt_factory(site, "HS256", key=new_secret)) == (302, "")
    assert LoginEvent.objects.filter(reason=RefusalReason.JWT_BAD_SIGNATURE).count() == 2
    assert JobRun.objects.get(name="key-rotation-finish").last_result == "1"


def test_pem_rotation_overlap_then_next_key_only(
    site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory, keyring: Keyring
) -> None:
    config = jwt_configure(site, next_public_key=public_pem(keyring.rsa_next))
    key_rotation_start(site=site, config=config, overlap=timedelta(days=7))
    assert _status(site, jwt_factory(site)) == (302, "")
    assert _status(site, jwt_factory(site, key=keyring.rsa_next)) == (302, "")

    _window_over(config)
    assert _status(site, jwt_factory(site)) == (403, RefusalReason.JWT_BAD_SIGNATURE)
    assert _status(site, jwt_factory(site, key=keyring.rsa_next)) == (302, "")


def test_jwks_periodic_refresh_with_overlap_and_removal(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    jwks_server: JwksServer,
    celery_worker: None,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    config = jwt_configure(site, public_key="", jwks_url=jwks_server.url)
    old = lambda: jwt_factory(site, headers={"kid": "k1"})  # noqa: E731
    new = lambda: jwt_factory(site, key=keyring.rsa_next, headers={"kid": "k2"})  # noqa: E731
    assert _status(site, old()) == (302, "")

    # The customer publishes the next key beside the current one.
    jwks_server.document = {
        "keys": [jwk(keyring.rsa, "k1", "RS256"), jwk(keyring.rsa_next, "k2", "RS256")]
    }
    jwks_refresh_all.delay().get(timeout=20)
    state = JwksRefresh.objects.get(jwt_settings=config)
    assert state.kids == ["k1", "k2"]
    assert not state.last_error
    requests = jwks_server.requests
    assert _status(site, new()) == (302, "")
    assert _status(site, old()) == (302, "")
    assert jwks_server.requests == requests  # picked up by the refresh, no refetch

    # A failed refresh changes nothing and is recorded.
    jwks_server.status = 503
    jwks_refresh_all.delay().get(timeout=20)
    state = JwksRefresh.objects.get(jwt_settings=config)
    assert state.last_error == "HTTP 503"
    assert state.kids == ["k1", "k2"]
    assert _status(site, old()) == (302, "")

    # The old key is withdrawn: gone at the next refresh.
    jwks_server.status = 200
    jwks_server.document = {"keys": [jwk(keyring.rsa_next, "k2", "RS256")]}
    jwks_refresh_all.delay().get(timeout=20)
    assert _status(site, old()) == (403, RefusalReason.JWT_UNKNOWN_KEY)
    assert _status(site, new()) == (302, "")
    assert JobRun.objects.get(name="jwks-refresh").last_error == ""
