"""Chat fixtures: the three campaign modes, visitor and agent JWT settings
with their own HS256 secrets, a VIP custom variable mapped from the visitor's
JWT and a routing rule sending VIPs to the VIP group.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from django.test import Client

from campaigns.models import Campaign
from chats.models import RoutingRule
from chats.tokens import ChatCredential, chat_token_issue
from mapping.models import CustomVariable, FieldMapping, Target
from sso.jwt.models import JwtSettings
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from tenants.models import Audience, Site
from tests.factories import CampaignFactory

VISITOR_SECRET = uuid.uuid4().hex + uuid.uuid4().hex
AGENT_SECRET = uuid.uuid4().hex + uuid.uuid4().hex
OTHER_SITE_SECRET = uuid.uuid4().hex + uuid.uuid4().hex


def jwt_settings_create(
    site: Site, *, audience: Audience, secret: str, login_url: str = ""
) -> JwtSettings:
    config = JwtSettings(
        site=site,
        audience=audience,
        enabled=True,
        login_url=login_url or f"https://login.shop.example/{audience}",
        algorithm="HS256",
        secret_encrypted=secret_encrypt(secret),
        secret_fingerprint=secret_fingerprint(secret),
    )
    config.full_clean()
    config.save()
    return config


def make_jwt(secret: str = VISITOR_SECRET, **claims: Any) -> str:
    """Return an HS256 token; a claim given as None is left out."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "external_id": "cust-1",
        "name": "Vera Visitor",
        "email": "vera@shop.example",
    }
    values.update(claims)
    return jwt.encode({k: v for k, v in values.items() if v is not None}, secret, "HS256")


@dataclass
class Campaigns:
    none: Campaign
    optional: Campaign
    required: Campaign


@pytest.fixture
def campaigns(site: Site) -> Campaigns:
    survey = "topic|What is it about?"
    return Campaigns(
        none=CampaignFactory.create(
            site=site, name="None", signin_mode="none", prechat_survey=True, survey_fields=survey
        ),
        optional=CampaignFactory.create(
            site=site,
            name="Optional",
            signin_mode="optional",
            prechat_survey=True,
            survey_fields=survey,
        ),
        required=CampaignFactory.create(site=site, name="Required", signin_mode="required"),
    )


@pytest.fixture
def visitor_sso(site: Site) -> JwtSettings:
    return jwt_settings_create(site, audience=Audience.VISITOR, secret=VISITOR_SECRET)


@pytest.fixture
def agent_sso(site: Site) -> JwtSettings:
    return jwt_settings_create(site, audience=Audience.AGENT, secret=AGENT_SECRET)


@pytest.fixture
def vip_routing(site: Site, campaigns: Campaigns) -> CustomVariable:
    variable = CustomVariable.objects.create(
        site=site, key="membership_level", label="Membership level", order=1
    )
    CustomVariable.objects.create(
        site=site, key="internal_score", label="Internal score", shown_to_agents=False, order=2
    )
    FieldMapping.objects.create(
        site=site,
        audience=Audience.VISITOR,
        protocol="jwt",
        source="account.level",
        target=Target.CUSTOM,
        variable=variable,
        type="text",
    )
    for campaign in (campaigns.none, campaigns.optional, campaigns.required):
        RoutingRule.objects.create(
            site=site,
            campaign=campaign,
            order=1,
            field="membership_level",
            operator="equals",
            value="VIP",
            group="vip",
        )
    return variable


def window_token(campaign: Campaign, **fields: Any) -> str:
    values: dict[str, Any] = {"chat_pk": None, "visitor_pk": None}
    values.update(fields)
    return chat_token_issue(
        ChatCredential(site_pk=campaign.site_id, campaign_pk=campaign.pk, **values)
    )


ApiCall = Callable[..., Any]


class WindowClient:
    """Talk to one campaign's window API as the window does: Bearer token, no cookies."""

    def __init__(self, client: Client, campaign: Campaign, token: str | None = None) -> None:
        self.client = client
        self.campaign = campaign
        self.token = token or window_token(campaign)
        self.base = f"/chat/{campaign.site.site_id}/{campaign.pk}/api/"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self.base + path, params, HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.post(
            self.base + path,
            body or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        if response.status_code == 200 and "token" in response.json():
            self.token = response.json()["token"]
        return response
