"""Tenant data rules enforced by the database and by validation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.models import Agent, Site
from tests.factories import AgentFactory


def test_agent_emails_are_unique_per_site_ignoring_case(site: Site) -> None:
    AgentFactory.create(site=site, email="Same@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentFactory.create(site=site, email="same@example.COM")


def test_agent_emails_may_repeat_across_sites(site: Site, other_site: Site) -> None:
    a = AgentFactory.create(site=site, email="same@example.com")
    b = AgentFactory.create(site=other_site, email="same@example.com")
    assert a.pk != b.pk
    assert list(Agent.objects.for_site(site)) == [a]
    assert list(Agent.objects.for_site(other_site)) == [b]


def test_duplicate_email_is_a_validation_error_in_forms(site: Site) -> None:
    AgentFactory.create(site=site, email="dup@example.com")
    with pytest.raises(ValidationError) as error:
        Agent(site=site, email="DUP@example.com").full_clean()
    assert "already has an agent with this email" in str(error.value)


@pytest.mark.parametrize(
    ("origins", "valid"),
    [
        ("https://shop.example\nhttp://localhost:8000", True),
        ("https://shop.example/", True),
        ("https://shop.example/path", False),
        ("shop.example", False),
        ("javascript:alert(1)", False),
        ("https://user@shop.example", False),
    ],
)
def test_allowed_origins_are_validated(site: Site, origins: str, valid: bool) -> None:
    site.allowed_origins = origins
    if valid:
        site.full_clean()
    else:
        with pytest.raises(ValidationError):
            site.full_clean()


def test_allowed_origin_list_is_normalised(site: Site) -> None:
    site.allowed_origins = "HTTPS://Shop.Example/\n\n https://b.example:8443 "
    assert site.allowed_origin_list == ["https://shop.example", "https://b.example:8443"]
