"""The demo site comes with a membership level mapped for visitors."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from mapping.models import CustomVariable, FieldMapping
from mapping.services import mapping_apply
from tenants.models import Audience, Protocol, Site


@pytest.mark.django_db
def test_demo_setup_maps_the_membership_level_idempotently() -> None:
    call_command("demo_setup", stdout=io.StringIO())
    call_command("demo_setup", stdout=io.StringIO())
    site = Site.objects.get(site_id=10001)
    assert CustomVariable.objects.for_site(site).count() == 3
    assert FieldMapping.objects.for_site(site).filter(target="custom").count() == 6
    mapped = mapping_apply(
        site=site,
        audience=Audience.VISITOR,
        protocol=Protocol.JWT,
        claims={"name": "Vic", "membership": {"level": "VIP"}, "ltv": 1234},
    )
    assert mapped.custom == {"membership_level": "VIP", "lifetime_value": 1234}
    assert mapped.fields == {"name": "Vic"}
