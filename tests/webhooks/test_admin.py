"""Webhooks and lifecycle in the multi-tenant admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from lifecycle.models import JobRun, MetadataRefresh
from sso.saml.models import SamlSettings
from tenants.models import Site
from tenants.services import operator_grant
from tests.factories import SamlSettingsFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, event_emit
from webhooks.signing import secret_open


@pytest.fixture
def op_client(client: Client, site: Site) -> Client:
    user = User.objects.create_user("op-a", "op@a.example", "pw")
    operator_grant(site=site, user=user)
    client.force_login(user)
    return client


def _delivery(site: Site, url: str) -> WebhookDelivery:
    endpoint_create(site=site, url=url)
    event_emit(site=site, kind="agent.signed_in", payload={})
    return WebhookDelivery.objects.get(site=site)


def test_operator_sees_and_resends_only_their_sites_deliveries(
    op_client: Client, site: Site, other_site: Site
) -> None:
    mine = _delivery(site, "https://a.example/hook")
    theirs = _delivery(other_site, "https://b.example/hook")
    WebhookDelivery.objects.update(status="failed", attempts=8)

    page = op_client.get("/admin/webhooks/webhookdelivery/").content.decode()
    assert "a.example/hook" in page
    assert "b.example/hook" not in page
    assert op_client.get(f"/admin/webhooks/webhookdelivery/{theirs.pk}/change/").status_code in {
        302,
        403,
        404,
    }

    response = op_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "resend", "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.attempts) == ("pending", 0)
    assert (theirs.status, theirs.attempts) == ("failed", 8)


def test_metadata_refresh_state_shows_last_error_and_job_runs_are_superuser_only(
    op_client: Client, admin_client: Client, site: Site
) -> None:
    saml: SamlSettings = SamlSettingsFactory.create(site=site)
    MetadataRefresh.objects.create(
        site=site, saml_settings=saml, last_error="The metadata URL could not be fetched: HTTP 500."
    )
    JobRun.objects.create(name="jwks-refresh", last_finished_at=timezone.now(), last_result="3")

    page = op_client.get("/admin/lifecycle/metadatarefresh/").content.decode()
    assert "could not be fetched: HTTP 500" in page
    assert op_client.get("/admin/lifecycle/jobrun/").status_code == 403
    assert "jwks-refresh" in admin_client.get("/admin/lifecycle/jobrun/").content.decode()


def test_operator_adds_an_https_endpoint_and_sees_its_secret_once(
    op_client: Client, site: Site, settings
) -> None:
    settings.SSO_WEBHOOK_ALLOW_PRIVATE = False  # production: https only
    form = {"site": site.pk, "url": "http://hooks.a.example/in", "is_active": "on"}
    refused = op_client.post("/admin/webhooks/webhookendpoint/add/", form)
    assert "must use https" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()

    form.update(url="https://hooks.a.example/in", events=["agent.signed_in", "sign_in.refused"])
    added = op_client.post("/admin/webhooks/webhookendpoint/add/", form, follow=True)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["agent.signed_in", "sign_in.refused"]
    page = added.content.decode()
    raw = page.split("(shown once): ", 1)[1].split("<", 1)[0].strip()
    assert secret_open(endpoint.secret_encrypted) == raw
    assert (
        raw
        not in op_client.get(
            f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/"
        ).content.decode()
    )
