"""Fixtures: a real OpenID provider on loopback and a site that uses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from sso.oidc.models import OidcSettings
from sso_site.secret_store import secret_encrypt
from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.factories import AgentFactory
from tests.sso.oidc.provider import OpenIDProvider, provider_serve

CLIENT_ID = "chat-gateway"
CLIENT_SECRET = "provider-issued-client-secret-0123456789"


@pytest.fixture
def provider() -> Iterator[OpenIDProvider]:
    idp = OpenIDProvider()
    httpd, thread = provider_serve(idp)
    cache.clear()  # discovery and JWKS of an earlier provider
    yield idp
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)
    cache.clear()


def redirect_uri(site: Site, host: str = "http://testserver") -> str:
    return f"{host}/sso/{site.site_id}/agent/oidc/callback/"


@pytest.fixture
def oidc_agent(site: Site) -> Agent:
    return AgentFactory.create(site=site, email="olivia@a.example")


@pytest.fixture
def oidc_settings(site: Site, provider: OpenIDProvider, oidc_agent: Agent) -> OidcSettings:
    provider.add_client(CLIENT_ID, CLIENT_SECRET, redirect_uri(site))
    provider.add_user(oidc_agent.email, name="Olivia")
    provider.auto_login = oidc_agent.email
    return OidcSettings.objects.create(
        site=site,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret_encrypted=secret_encrypt(CLIENT_SECRET),
    )


@dataclass
class Flow:
    """One sign-in up to the provider's answer: the callback URL it gave."""

    callback: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.callback).query).items()}

    def with_params(self, **params: str) -> str:
        merged = {**self.params, **params}
        query = "&".join(f"{k}={v}" for k, v in merged.items())
        return f"{urlsplit(self.callback).path}?{query}"


@pytest.fixture
def oidc_flow(client: Client) -> Callable[[Site], Flow]:
    """Return a function that starts sign-in and lets the provider answer
    (as the browser would follow its redirects).
    """

    def run(site: Site, **start_params: Any) -> Flow:
        start = client.get(f"/sso/{site.site_id}/agent/login/", start_params)
        assert start.status_code == 302, start.content[:300]
        answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return Flow(callback=answer.headers["Location"])

    return run


def reason_on_page(response: Any) -> str:
    body = response.content.decode()
    marker = 'id="reason-code">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


def assert_refused(client: Client, response: Any, reason: Any, *, status: int = 403) -> None:
    """Assert the status, the reason on the page, no agent in the session,
    and the audit row.
    """
    assert response.status_code == status
    assert reason_on_page(response) == reason
    assert session_key_for(Audience.AGENT) not in client.session
    event = LoginEvent.objects.order_by("-pk").first()
    assert event is not None
    assert event.outcome == LoginEvent.Outcome.REFUSED
    assert event.reason == reason
