"""Password + TOTP sign-in, and break-glass where SSO is required (OWASP
ASVS V2.2 anti-automation, V2.8 one-time passwords: single use, lockout).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
import pytest
from django.test import Client, override_settings

from access.models import AccessPolicy, SsoMode
from sso.password.models import BreakGlassUse
from sso.password.services import credential_set
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Protocol, Site
from tests.factories import AgentFactory
from tests.fixtures.oidc import assert_refused
from webhooks.models import EventKind, WebhookEvent
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@dataclass
class Credentialed:
    agent: Agent
    totp: pyotp.TOTP


def _credentialed(site: Site, email: str, *, break_glass: bool) -> Credentialed:
    agent = AgentFactory.create(site=site, email=email)
    secret = credential_set(site=site, agent=agent, password=PASSWORD, break_glass=break_glass)
    return Credentialed(agent, pyotp.TOTP(secret))


@pytest.fixture
def sso_required(site: Site) -> AccessPolicy:
    return AccessPolicy.objects.create(site=site, sso_mode=SsoMode.REQUIRED)


@pytest.fixture
def designated(site: Site) -> Credentialed:
    return _credentialed(site, "root@a.example", break_glass=True)


@pytest.fixture
def ordinary(site: Site) -> Credentialed:
    return _credentialed(site, "plain@a.example", break_glass=False)


def _post(client: Client, site: Site, email: str, code: str, password: str = PASSWORD) -> object:
    return client.post(
        f"/sso/{site.site_id}/agent/password/",
        {"email": email, "password": password, "code": code},
    )


def test_password_form_is_shown(client: Client, site: Site) -> None:
    response = client.get(f"/sso/{site.site_id}/agent/password/")
    assert response.status_code == 200
    assert b'name="code"' in response.content


def test_break_glass_signs_in_designated_agent_and_is_audited(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    response = _post(client, site, designated.agent.email, designated.totp.now())
    assert response.status_code == 302  # type: ignore[attr-defined]
    binding = client.session[session_key_for(Audience.AGENT)]
    assert binding["protocol"] == Protocol.PASSWORD
    event = LoginEvent.objects.get(outcome=LoginEvent.Outcome.SUCCESS)
    assert event.detail["reference"] == "break_glass"
    use = BreakGlassUse.objects.get()
    assert use.agent == designated.agent
    assert not use.reviewed


def test_break_glass_refuses_agent_not_designated(
    client: Client, site: Site, sso_required: AccessPolicy, ordinary: Credentialed
) -> None:
    response = _post(client, site, ordinary.agent.email, ordinary.totp.now())
    assert_refused(client, response, RefusalReason.SSO_REQUIRED)
    assert not BreakGlassUse.objects.exists()


def test_password_sign_in_where_sso_optional_needs_no_designation(
    client: Client, site: Site, ordinary: Credentialed
) -> None:
    response = _post(client, site, ordinary.agent.email, ordinary.totp.now())
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert session_key_for(Audience.AGENT) in client.session
    assert not BreakGlassUse.objects.exists()


def test_password_sign_in_refuses_wrong_totp(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    response = _post(client, site, designated.agent.email, "000000")
    assert_refused(client, response, RefusalReason.TOTP_INVALID)


def test_password_sign_in_refuses_wrong_password(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    response = _post(client, site, designated.agent.email, designated.totp.now(), "nope")
    assert_refused(client, response, RefusalReason.PASSWORD_INVALID)


def test_password_sign_in_refuses_agent_without_credential(
    client: Client, site: Site, agent: Agent
) -> None:
    response = _post(client, site, agent.email, "123456")
    assert_refused(client, response, RefusalReason.PASSWORD_INVALID)


def test_totp_code_is_single_use(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    code = designated.totp.now()
    assert _post(client, site, designated.agent.email, code).status_code == 302  # type: ignore[attr-defined]
    other = Client()
    response = _post(other, site, designated.agent.email, code)
    assert_refused(other, response, RefusalReason.TOTP_INVALID)


@override_settings(SSO_PASSWORD_MAX_FAILURES=3)
def test_wrong_totp_locks_the_account(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    for _ in range(3):
        _post(client, site, designated.agent.email, "000000")
    # Now even the right code is refused, from any browser.
    other = Client()
    response = _post(other, site, designated.agent.email, designated.totp.now())
    assert_refused(other, response, RefusalReason.PASSWORD_LOCKED, status=429)
    assert LoginEvent.objects.filter(reason=RefusalReason.TOTP_INVALID).count() == 3


def test_malformed_form_is_refused_not_500(client: Client, site: Site) -> None:
    response = client.post(f"/sso/{site.site_id}/agent/password/", {"email": "x\x00"})
    assert_refused(client, response, RefusalReason.BAD_REQUEST, status=400)


def test_admin_announces_unreviewed_break_glass_use(
    admin_client: Client,
    client: Client,
    site: Site,
    sso_required: AccessPolicy,
    designated: Credentialed,
) -> None:
    _post(client, site, designated.agent.email, designated.totp.now())
    page = admin_client.get("/admin/sso_password/agentcredential/", follow=True)
    assert b"break-glass sign-in(s) not yet reviewed" in page.content
    uses = admin_client.get("/admin/sso_password/breakglassuse/")
    assert str(designated.agent).encode() in uses.content


def test_break_glass_use_is_sent_as_a_webhook_event(
    client: Client, site: Site, sso_required: AccessPolicy, designated: Credentialed
) -> None:
    """A break-glass sign-in reaches the site's webhook endpoints (issue 16)."""
    endpoint, _ = endpoint_create(
        site=site, url="https://hooks.a.example/sso", events=[EventKind.BREAK_GLASS_USED]
    )
    response = _post(client, site, designated.agent.email, designated.totp.now())
    assert response.status_code == 302  # type: ignore[attr-defined]
    event = WebhookEvent.objects.get(site=site)
    assert event.kind == EventKind.BREAK_GLASS_USED
    assert event.payload == {
        "agent_id": designated.agent.pk,
        "use_id": BreakGlassUse.objects.get().pk,
    }
    assert event.deliveries.get().endpoint == endpoint
