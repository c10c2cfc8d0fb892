"""factory_boy factories for tenant data."""

from __future__ import annotations

import factory

from campaigns.models import Campaign
from tenants.models import Agent, Site


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    site_id = factory.Sequence(lambda n: 20000 + n)
    name = factory.Sequence(lambda n: f"Site {n}")
    allowed_origins = "https://shop.example"


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    site = factory.SubFactory(SiteFactory)
    email = factory.Sequence(lambda n: f"agent{n}@example.com")
    name = factory.Faker("name")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
