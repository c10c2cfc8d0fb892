"""The ACS signs a known, active agent in with a real IdP's response."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, LoginEvent, Site, UsedToken
from tests.fixtures.saml import ResponseFactory, acs_post


def test_acs_signs_in_active_agent(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    response = acs_post(client, saml_site, saml_response_factory(saml_site))

    assert response.status_code == 302
    assert response["Location"] == reverse("console:index")
    session = client.session
    assert session[session_key_for(Audience.AGENT)]["principal"] == agent.pk
    assert client.get(reverse("console:index")).status_code == 200
    event = LoginEvent.objects.get(outcome=LoginEvent.Outcome.SUCCESS)
    assert event.protocol == "saml"
    assert event.subject == agent.email
    assert settings.SESSION_COOKIE_NAME in response.cookies


def test_assertion_id_is_remembered_past_its_validity(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    before = timezone.now()
    acs_post(client, saml_site, saml_response_factory(saml_site))

    used = UsedToken.objects.get(site=saml_site, kind="saml_assertion")
    # The test IdP issues 5-minute assertions; the row must outlive them.
    assert used.expires_at > before + timedelta(minutes=5)
