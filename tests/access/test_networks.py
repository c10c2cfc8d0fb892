"""Per-site agent network allow-lists and the trusted-proxy client address
(OWASP ASVS V1.4 / V4: access control by network; the address never taken
from a header a client sets).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from access.models import AccessPolicy
from sso.oidc.models import OidcSettings
from sso_site.client_address import ClientAddressMiddleware
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tenants.services import client_ip
from tests.fixtures.oidc import Flow, assert_refused

pytestmark = pytest.mark.django_db

OFFICE = "203.0.113.0/24"


def _ip(remote: str, forwarded: str = "") -> str | None:
    """Return the client address the request middleware settles on."""
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    ClientAddressMiddleware(lambda request: HttpResponse())(request)
    return client_ip(request)


def test_client_ip_ignores_forwarded_for_without_trusted_proxy() -> None:
    assert _ip("198.51.100.9", "203.0.113.7") == "198.51.100.9"


@override_settings(SSO_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_client_ip_reads_forwarded_for_from_trusted_proxy() -> None:
    assert _ip("10.0.0.2", "203.0.113.7") == "203.0.113.7"
    # The client's own "X-Forwarded-For: <office address>" sits further left.
    assert _ip("10.0.0.2", "203.0.113.7, 198.51.100.9") == "198.51.100.9"
    # Through two of our proxies.
    assert _ip("10.0.0.2", "198.51.100.9, 10.0.0.3") == "198.51.100.9"
    # An untrusted peer's header is ignored.
    assert _ip("198.51.100.9", "203.0.113.7") == "198.51.100.9"
    assert _ip("10.0.0.2", "garbage") == "10.0.0.2"


@pytest.fixture
def office_only(site: Site) -> AccessPolicy:
    return AccessPolicy.objects.create(site=site, agent_networks=f"{OFFICE}\n2001:db8::/32")


def test_console_allows_agent_from_listed_network(
    signed_in_client: Callable[[Agent], Client], agent: Agent, office_only: AccessPolicy
) -> None:
    client = signed_in_client(agent)
    assert client.get("/console/", REMOTE_ADDR="203.0.113.50").status_code == 200


def test_console_refuses_agent_from_other_network(
    signed_in_client: Callable[[Agent], Client], agent: Agent, office_only: AccessPolicy
) -> None:
    client = signed_in_client(agent)
    response = client.get("/console/", REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 403
    assert RefusalReason.IP_NOT_ALLOWED.value.encode() in response.content
    event = LoginEvent.objects.order_by("-pk").first()
    assert event is not None
    assert event.reason == RefusalReason.IP_NOT_ALLOWED
    assert event.client_ip == "198.51.100.9"


def test_console_ignores_spoofed_forwarded_for(
    signed_in_client: Callable[[Agent], Client], agent: Agent, office_only: AccessPolicy
) -> None:
    client = signed_in_client(agent)
    response = client.get(
        "/console/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.50"
    )
    assert response.status_code == 403


@override_settings(SSO_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_console_reads_forwarded_for_from_trusted_proxy(
    signed_in_client: Callable[[Agent], Client], agent: Agent, office_only: AccessPolicy
) -> None:
    client = signed_in_client(agent)
    allowed = client.get("/console/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert allowed.status_code == 200
    refused = client.get(
        "/console/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50, 198.51.100.9"
    )
    assert refused.status_code == 403


def test_site_without_networks_allows_any_address(
    signed_in_client: Callable[[Agent], Client], agent: Agent
) -> None:
    client = signed_in_client(agent)
    assert client.get("/console/", REMOTE_ADDR="198.51.100.9").status_code == 200


def test_sign_in_from_other_network_is_refused(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    oidc_flow: Callable[..., Flow],
    office_only: AccessPolicy,
) -> None:
    response = client.get(oidc_flow(site).callback, REMOTE_ADDR="198.51.100.9")
    assert_refused(client, response, RefusalReason.IP_NOT_ALLOWED)


def test_sign_in_from_listed_network_succeeds(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    oidc_flow: Callable[..., Flow],
    office_only: AccessPolicy,
) -> None:
    response = client.get(oidc_flow(site).callback, REMOTE_ADDR="2001:db8::5")
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_admin_refuses_malformed_network(admin_client: Client, site: Site) -> None:
    response = admin_client.post(
        "/admin/access/accesspolicy/add/",
        {
            "site": site.pk,
            "agent_method": "",
            "sso_mode": "optional",
            "agent_networks": "10.0.0/33",
        },
    )
    assert response.status_code == 200
    assert not AccessPolicy.objects.exists()


def test_policy_change_applies_at_once(
    signed_in_client: Callable[[Agent], Client], agent: Agent, site: Site
) -> None:
    client = signed_in_client(agent)
    assert client.get("/console/", REMOTE_ADDR="198.51.100.9").status_code == 200
    AccessPolicy.objects.create(site=site, agent_networks=OFFICE)
    assert client.get("/console/", REMOTE_ADDR="198.51.100.9").status_code == 403
