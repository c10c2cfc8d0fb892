"""Campaign admin: routing rules inline, scoped to the operator's sites."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chats.models import Chat, RoutingRule
from chats.services import chat_start
from tenants.models import Site
from tenants.services import operator_grant
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns


@pytest.fixture
def op_client(client: Client, site: Site) -> Client:
    user = User.objects.create_user("op-a", "op@a.example", "pw")
    operator_grant(site=site, user=user)
    client.force_login(user)
    return client


def test_operator_adds_a_routing_rule_under_the_campaign(
    op_client: Client, site: Site, campaigns: Campaigns
) -> None:
    campaign = campaigns.optional
    response = op_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {
            "name": campaign.name,
            "is_active": "on",
            "signin_mode": "required",
            "visitor_sso": "jwt",
            "prechat_survey": "on",
            "survey_fields": "topic|What is it about?",
            "default_group": "support",
            "routing_rules-TOTAL_FORMS": "1",
            "routing_rules-INITIAL_FORMS": "0",
            "routing_rules-0-order": "1",
            "routing_rules-0-field": "membership_level",
            "routing_rules-0-operator": "in",
            "routing_rules-0-value": "VIP,Gold",
            "routing_rules-0-group": "vip",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get()
    assert (rule.site, rule.campaign, rule.group) == (site, campaign, "vip")
    campaign.refresh_from_db()
    assert (campaign.signin_mode, campaign.default_group) == ("required", "support")


def test_operator_sees_only_their_sites_chats_read_only(
    op_client: Client, site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    mine = chat_start(site=site, campaign=campaigns.none, visitor=None)
    theirs = chat_start(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=None
    )
    listing = op_client.get("/admin/chats/chat/").content.decode()
    assert mine.guest_label in listing
    assert theirs.guest_label not in listing
    page = op_client.get(f"/admin/chats/chat/{theirs.pk}/change/", follow=True)
    assert theirs.guest_label not in page.content.decode()
    assert op_client.get("/admin/chats/chat/add/").status_code == 403
    assert Chat.objects.count() == 2
