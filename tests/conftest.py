"""Shared fixtures: tenant data, signed-in clients and a Celery worker on the
real database and broker. Fixtures of one area that more than one test folder
uses live in ``tests/fixtures/<area>.py``, loaded here for the whole suite; a
folder's own ``conftest.py`` holds only what that folder uses, and no module
imports another folder's ``conftest.py`` (a contract in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.test import Client, RequestFactory

from sso_site.celery import app
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.session import sign_in
from tenants.models import Agent, Audience, Protocol, Site
from tests.factories import AgentFactory, SiteFactory
from tests.fixtures.cache import app_cache_clear

pytest_plugins = [
    "tests.fixtures.chats",
    "tests.fixtures.jwt",
    "tests.fixtures.oidc",
    "tests.fixtures.saml",
]


@pytest.fixture(scope="session", autouse=True)
def _no_cache_from_earlier_runs() -> None:
    """Start the run with none of an earlier run's cached values: row IDs
    start again in a new test database, so a value cached under an ID
    (the keys a JWT setting last verified with, say) would seem to be this
    run's. The broker's keys stay (``app_cache_clear``).
    """
    app_cache_clear()


@pytest.fixture
def site(db: None) -> Site:
    return SiteFactory.create(site_id=10001, name="Site A")


@pytest.fixture
def other_site(db: None) -> Site:
    return SiteFactory.create(site_id=10002, name="Site B")


@pytest.fixture
def agent(site: Site) -> Agent:
    return AgentFactory.create(site=site, email="alice@a.example")


@pytest.fixture
def other_agent(other_site: Site) -> Agent:
    return AgentFactory.create(site=other_site, email="bob@b.example")


def session_request(session_key: str | None = None, path: str = "/") -> HttpRequest:
    """Return a request carrying a real (database) session store."""
    request = RequestFactory().get(path, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="pytest")
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(session_key)
    return request


def identity_for(agent: Agent, **overrides: object) -> VerifiedIdentity:
    values: dict[str, object] = {
        "site": agent.site,
        "audience": Audience.AGENT,
        "protocol": Protocol.JWT,
        "subject": agent.email,
        "claims": {"email": agent.email},
        "reference": "test-jti",
    }
    values.update(overrides)
    return VerifiedIdentity(**values)  # type: ignore[arg-type]


@pytest.fixture
def signed_in_client(client: Client) -> Callable[[Agent], Client]:
    """Return a function that signs ``agent`` in through the session layer."""

    def sign(agent: Agent) -> Client:
        request = session_request()
        sign_in(request, identity=identity_for(agent))
        session: SessionBase = request.session
        session.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""
        return client

    return sign


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real Celery worker on the test broker (Redis), in this process."""
    with start_worker(app, perform_ping_check=False, loglevel="WARNING"):
        yield
