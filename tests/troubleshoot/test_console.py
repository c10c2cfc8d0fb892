"""The console's pages: a valid input passes in a dry run that writes nothing
(and stays usable for a real sign-in), captures are redacted and expire, and
an operator of site A cannot reach site B's console or captures.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sso.jwt.keys import key_use_recent
from sso.jwt.models import JwtSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site, UsedToken
from tests.fixtures.jwt import callback_url
from tests.fixtures.saml import ResponseFactory, acs_post
from troubleshoot.dryrun import jwt_dry_run, saml_dry_run


def test_valid_saml_passes_and_nothing_is_written(
    client: Client,
    saml_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    admin_request: Any,
) -> None:
    saml_response = saml_response_factory(saml_site)
    session_before = dict(client.session)

    report = saml_dry_run(
        admin_request, site=saml_site, audience=Audience.AGENT, text=saml_response
    )

    assert report.ok, (report.reason, report.failed_check)
    names = [step.name for step in report.steps]
    for check in ("signature", "assertion_issuer", "audience", "replay", "mfa"):
        assert check in names
    assert not LoginEvent.objects.exists()
    assert not UsedToken.objects.exists()
    assert dict(client.session) == session_before
    assert not hasattr(admin_request, "session")
    # Neither the request nor the assertion was consumed: it still signs in.
    assert acs_post(client, saml_site, saml_response).status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_valid_jwt_passes_and_nothing_is_written(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: Any
) -> None:
    jwt_configure(site)
    token = jwt_factory(site, email=jwt_agent.email)

    report = jwt_dry_run(site=site, audience=Audience.AGENT, token=token)

    assert report.ok
    assert [s.name for s in report.steps][-3:] == ["subject", "mfa", "replay"]
    assert not LoginEvent.objects.exists()
    assert not UsedToken.objects.exists()
    config = JwtSettings.objects.get(site=site, audience=Audience.AGENT)
    assert key_use_recent(config=config) == []  # which key verified: real sign-ins only
    assert client.get(callback_url(site), {"jwt": token}).status_code == 302
    assert len(key_use_recent(config=config)) == 1


def test_saml_capture_is_redacted_and_replays(
    client: Client,
    saml_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    op_client: Client,
) -> None:
    saml_response = saml_response_factory(
        saml_site,
        email="alice@a.example",
        attributes={"mail": ["alice@a.example"], "cn": ["Alice Liddell"]},
        edit=lambda xml: xml.replace('Destination="', 'Destination="https://evil.example/x'),
    )
    xml = base64.b64decode(saml_response).decode()
    signature = re.search(r"SignatureValue>([^<]+)<", xml)
    assert signature is not None

    response = acs_post(client, saml_site, saml_response)

    assert response.status_code == 403
    event = LoginEvent.objects.get()
    assert event.reason == RefusalReason.SAML_WRONG_RECIPIENT
    capture = event.detail["capture"]["text"]
    assert "alice@a.example" not in capture
    assert "Alice" not in capture
    assert signature.group(1).strip()[:20] not in capture
    assert "[signature value," in capture
    assert "[masked email," in capture
    page = op_client.get(reverse("troubleshoot:refusals", args=[saml_site.pk]))
    assert "open in test console" in page.content.decode()
    replay = op_client.get(
        reverse("troubleshoot:console", args=[saml_site.pk]) + f"?capture={event.pk}"
    )
    assert replay.status_code == 200
    assert replay.context["report"].failed_check == "destination_recipient"
    assert LoginEvent.objects.count() == 1  # the replay wrote no row


def test_jwt_capture_is_redacted(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: Any
) -> None:
    jwt_configure(site)
    token = jwt_factory(site, email=jwt_agent.email, name="Alice Liddell", aud="another")

    client.get(callback_url(site), {"jwt": token})

    event = LoginEvent.objects.get()
    assert event.reason == RefusalReason.JWT_WRONG_AUDIENCE
    capture = event.detail["capture"]["text"]
    assert jwt_agent.email not in capture
    assert "Alice" not in capture
    assert all(part not in capture for part in token.split("."))
    assert '"aud": "another"' in capture


@pytest.mark.django_db
def test_expired_capture_is_not_kept(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: Any,
    op_client: Client,
    settings: Any,
) -> None:
    settings.SSO_CAPTURE_TTL = 0
    jwt_configure(site)
    client.get(callback_url(site), {"jwt": jwt_factory(site, aud="another")})
    event = LoginEvent.objects.get()

    page = op_client.get(reverse("troubleshoot:refusals", args=[site.pk]))
    replay = op_client.get(reverse("troubleshoot:console", args=[site.pk]) + f"?capture={event.pk}")

    assert "no capture kept" in page.content.decode()
    assert replay.status_code == 404


def test_operator_of_site_a_cannot_open_site_b(
    client: Client,
    site: Site,
    other_site: Site,
    op_client: Client,
    jwt_configure: Any,
    jwt_factory: Any,
) -> None:
    jwt_configure(other_site)
    client.get(callback_url(other_site), {"jwt": jwt_factory(other_site, aud="another")})
    event_b = LoginEvent.objects.get(site=other_site)

    for name in ("setup", "console", "refusals"):
        assert (
            op_client.get(reverse(f"troubleshoot:{name}", args=[other_site.pk])).status_code == 404
        )
        assert op_client.get(reverse(f"troubleshoot:{name}", args=[site.pk])).status_code == 200
    post = op_client.post(
        reverse("troubleshoot:console", args=[other_site.pk]),
        {"audience": "agent", "protocol": "jwt", "text": "a.b.c"},
    )
    assert post.status_code == 404
    # B's capture through A's console: not found either.
    own = reverse("troubleshoot:console", args=[site.pk]) + f"?capture={event_b.pk}"
    assert op_client.get(own).status_code == 404
    assert Client().get(reverse("troubleshoot:console", args=[site.pk])).status_code == 302


def test_console_page_shows_the_failed_check(
    site: Site, op_client: Client, jwt_configure: Any, jwt_factory: Any
) -> None:
    jwt_configure(site)
    token = jwt_factory(site, iss="https://evil.example/")

    page = op_client.post(
        reverse("troubleshoot:console", args=[site.pk]),
        {"audience": "agent", "protocol": "jwt", "text": token},
    )

    body = page.content.decode()
    assert f'id="reason-code">{RefusalReason.JWT_WRONG_ISSUER}<' in body
    assert 'id="failed-check">signature_and_times<' in body
    assert not LoginEvent.objects.exists()


def test_setup_page_lists_the_urls_and_health(saml_site: Site, op_client: Client) -> None:
    page = op_client.get(reverse("troubleshoot:setup", args=[saml_site.pk]))

    body = page.content.decode()
    assert f"/sso/{saml_site.site_id}/agent/saml/acs/" in body
    assert f"/sso/{saml_site.site_id}/visitor/jwt/" in body
    assert "troubleshoot/copy.js" in body
    assert "<script>" not in body
    assert page.context["health"]["certificates"], "the IdP certificate with its expiry"


def test_site_page_shows_the_health_panel(saml_site: Site, op_client: Client) -> None:
    page = op_client.get(reverse("admin:tenants_site_change", args=[saml_site.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="sso-health"' in body
    assert reverse("troubleshoot:console", args=[saml_site.pk]) in body
