"""The multi-tenant admin: an operator of site A never sees or touches site B."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from campaigns.models import Campaign
from tenants.models import Agent, LoginEvent, Site
from tenants.services import operator_grant
from tests.factories import AgentFactory, CampaignFactory


@pytest.fixture
def operator(site: Site) -> User:
    user = User.objects.create_user("op-a", "op@a.example", "pw")
    operator_grant(site=site, user=user)
    return user


@pytest.fixture
def op_client(client: Client, operator: User) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def b_agent(other_site: Site) -> Agent:
    return AgentFactory.create(site=other_site, email="secret-b@b.example", name="B Person")


def test_changelists_list_only_the_operators_site(
    op_client: Client, agent: Agent, b_agent: Agent
) -> None:
    CampaignFactory.create(site=agent.site, name="A campaign")
    CampaignFactory.create(site=b_agent.site, name="B campaign")

    agents = op_client.get("/admin/tenants/agent/").content.decode()
    sites = op_client.get("/admin/tenants/site/").content.decode()
    campaigns = op_client.get("/admin/campaigns/campaign/").content.decode()

    assert agent.email in agents
    assert b_agent.email not in agents
    assert "Site A" in sites
    assert "Site B" not in sites
    assert "Site B" not in agents
    assert "A campaign" in campaigns
    assert "B campaign" not in campaigns


def test_operator_cannot_open_or_edit_another_sites_object(
    op_client: Client, b_agent: Agent
) -> None:
    url = f"/admin/tenants/agent/{b_agent.pk}/change/"

    opened = op_client.get(url, follow=True)
    posted = op_client.post(
        url,
        {"email": "stolen@b.example", "name": "x", "role": "admin", "is_active": "on"},
        follow=True,
    )
    deleted = op_client.post(f"/admin/tenants/agent/{b_agent.pk}/delete/", {"post": "yes"})
    history = op_client.get(f"/admin/tenants/agent/{b_agent.pk}/history/", follow=True)

    for response in (opened, posted, history):
        assert b_agent.email not in response.content.decode()
        assert "doesn\u2019t exist" in response.content.decode()
    assert deleted.status_code == 302
    b_agent.refresh_from_db()
    assert (b_agent.email, b_agent.role) == ("secret-b@b.example", "agent")


def test_operator_cannot_open_another_site(op_client: Client, other_site: Site) -> None:
    response = op_client.get(f"/admin/tenants/site/{other_site.pk}/change/", follow=True)
    assert "Site B" not in response.content.decode()


def test_operator_cannot_create_an_object_in_another_site(
    op_client: Client, site: Site, other_site: Site
) -> None:
    response = op_client.post(
        "/admin/tenants/agent/add/",
        {"site": other_site.pk, "email": "new@b.example", "role": "agent", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Agent.objects.filter(email="new@b.example").exists()

    response = op_client.post(
        "/admin/tenants/agent/add/",
        {"site": site.pk, "email": "new@a.example", "role": "agent", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Agent.objects.get(email="new@a.example").site == site


def test_nobody_moves_an_object_to_another_site(
    client: Client, agent: Agent, other_site: Site
) -> None:
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)

    client.post(
        f"/admin/tenants/agent/{agent.pk}/change/",
        {"site": other_site.pk, "email": agent.email, "role": "agent", "is_active": "on"},
    )

    agent.refresh_from_db()
    assert agent.site.site_id == 10001


def test_autocomplete_and_raw_id_lookups_are_scoped(
    op_client: Client, agent: Agent, other_site: Site
) -> None:
    autocomplete = op_client.get(
        "/admin/autocomplete/",
        {"app_label": "tenants", "model_name": "agent", "field_name": "site", "term": "Site"},
    ).json()
    popup = op_client.get("/admin/tenants/site/", {"_to_field": "id", "_popup": "1"})

    assert [r["text"] for r in autocomplete["results"]] == ["Site A (10001)"]
    assert "Site A" in popup.content.decode()
    assert "Site B" not in popup.content.decode()


def test_audit_log_is_scoped_and_read_only(op_client: Client, site: Site, other_site: Site) -> None:
    LoginEvent.objects.create(site=site, audience="agent", outcome="refused", reason="replay")
    b_event = LoginEvent.objects.create(
        site=other_site, audience="agent", outcome="refused", reason="unknown_agent"
    )
    LoginEvent.objects.create(site=None, audience="agent", outcome="refused", reason="x_null")

    listing = op_client.get("/admin/tenants/loginevent/").content.decode()
    filtered = op_client.get("/admin/tenants/loginevent/?reason=replay").content.decode()
    b_page = op_client.get(f"/admin/tenants/loginevent/{b_event.pk}/change/", follow=True)

    assert "replay" in listing
    assert "unknown_agent" not in listing
    assert "x_null" not in listing
    assert "Site B" not in listing
    assert "replay" in filtered
    assert "unknown_agent" not in b_page.content.decode()
    assert op_client.get("/admin/tenants/loginevent/add/").status_code == 403


def test_campaign_sign_in_mode_is_editable_from_the_list(op_client: Client, site: Site) -> None:
    campaign = CampaignFactory.create(site=site)
    response = op_client.post(
        "/admin/campaigns/campaign/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": campaign.pk,
            "form-0-signin_mode": "required",
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.signin_mode == Campaign.SignInMode.REQUIRED


def test_operator_membership_admin_is_for_superusers_only(op_client: Client) -> None:
    assert op_client.get("/admin/tenants/siteoperator/").status_code == 403
