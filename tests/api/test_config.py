"""Campaigns, custom variables, field mappings (and try), routing rules,
email domains: CRUD, validation naming the field, tenancy, audit."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from chats.models import RoutingRule
from mapping.models import CustomVariable, FieldMapping
from tenants.models import Site, SiteDomain
from tests.api.conftest import last_change, results
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


# Campaigns: full CRUD.


def test_campaign_crud(api: APIClient, site: Site) -> None:
    created = api.post(
        "/api/v1/campaigns/",
        {"name": "VIP", "signin_mode": "required", "prechat_survey": False},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Campaign.objects.get(pk=pk).site == site
    assert [c["name"] for c in results(api.get("/api/v1/campaigns/"))] == ["VIP"]
    updated = api.patch(f"/api/v1/campaigns/{pk}/", {"default_group": "vip"}, format="json")
    assert updated.json()["default_group"] == "vip"
    assert last_change().fields == ["default_group"]
    assert api.delete(f"/api/v1/campaigns/{pk}/").status_code == 204
    assert not Campaign.objects.filter(pk=pk).exists()
    assert last_change().action == "delete"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Taken"}, "name"),
        ({"name": "x", "signin_mode": "sometimes"}, "signin_mode"),
        ({"name": ""}, "name"),
    ],
)
def test_campaign_validation(api: APIClient, site: Site, body: dict[str, Any], field: str) -> None:
    CampaignFactory.create(site=site, name="Taken")
    response = api.post("/api/v1/campaigns/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_campaign_of_another_site(api: APIClient, other_site: Site) -> None:
    theirs = CampaignFactory.create(site=other_site, name="Theirs")
    assert results(api.get("/api/v1/campaigns/")) == []
    for response in (
        api.get(f"/api/v1/campaigns/{theirs.pk}/"),
        api.patch(f"/api/v1/campaigns/{theirs.pk}/", {"name": "Mine"}, format="json"),
        api.delete(f"/api/v1/campaigns/{theirs.pk}/"),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    # Same name in another site is fine.
    assert api.post("/api/v1/campaigns/", {"name": "Theirs"}, format="json").status_code == 201


# Custom variables and field mappings.


def test_variable_and_mapping_crud(api: APIClient, site: Site) -> None:
    variable = api.post(
        "/api/v1/custom-variables/",
        {"key": "tier", "label": "Tier", "type": "choice", "choices": "gold\nsilver"},
        format="json",
    )
    assert variable.status_code == 201, variable.content
    mapping = api.post(
        "/api/v1/field-mappings/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "source": "account.tier",
            "target": "custom",
            "variable": variable.json()["id"],
            "required": True,
        },
        format="json",
    )
    assert mapping.status_code == 201, mapping.content
    assert mapping.json()["target_name"] == "custom.tier"
    assert mapping.json()["type"] == "choice"
    listed = results(api.get("/api/v1/field-mappings/?audience=visitor&target=custom"))
    assert [m["source"] for m in listed] == ["account.tier"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "Bad Key", "label": "x"}, "key"),
        ({"key": "tier", "label": "x", "type": "choice"}, "choices"),
        ({"key": "dup", "label": "x"}, "key"),
    ],
)
def test_variable_validation(api: APIClient, site: Site, body: dict[str, Any], field: str) -> None:
    CustomVariable.objects.create(site=site, key="dup", label="Dup")
    response = api.post("/api/v1/custom-variables/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience": "agent", "target": "email", "source": "mail"}, "target"),
        ({"audience": "visitor", "target": "custom", "source": "x"}, "variable"),
        ({"audience": "visitor", "target": "email", "source": "x", "default": "nope"}, "default"),
        ({"audience": "visitor", "target": "name", "source": "x", "type": "number"}, "type"),
        ({"audience": "visitor", "target": "name", "source": "given"}, "target"),  # duplicate
    ],
)
def test_mapping_validation_same_as_admin(
    api: APIClient, site: Site, body: dict[str, Any], field: str
) -> None:
    # Every new site has the default mappings (visitor jwt name among them).
    assert FieldMapping.objects.filter(site=site, audience="visitor", target="name").exists()
    before = FieldMapping.objects.count()
    response = api.post("/api/v1/field-mappings/", {"protocol": "jwt", **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert FieldMapping.objects.count() == before


def test_mapping_may_not_use_another_sites_variable(api: APIClient, other_site: Site) -> None:
    theirs = CustomVariable.objects.create(site=other_site, key="tier", label="Tier")
    response = api.post(
        "/api/v1/field-mappings/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "source": "t",
            "target": "custom",
            "variable": theirs.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "variable" in response.json()


def test_mapping_try_runs_the_pure_mapper(api: APIClient, site: Site) -> None:
    response = api.post(
        "/api/v1/field-mappings/try/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "sample": {"email": " Ann@Example.COM ", "name": "Ann", "external_id": "u-1"},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    assert body["values"]["email"] == "ann@example.com"
    assert body["rule_count"] == 3


def test_mapping_try_reports_problems_and_stores_nothing(api: APIClient, site: Site) -> None:
    api.post(
        "/api/v1/field-mappings/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "source": "tel",
            "target": "phone",
            "required": True,
        },
        format="json",
    )
    count = FieldMapping.objects.count()
    response = api.post(
        "/api/v1/field-mappings/try/",
        {"audience": "visitor", "protocol": "jwt", "sample": '{"email": "not-an-email"}'},
        format="json",
    )
    body = response.json()
    assert body["ok"] is False
    codes = {p["target"]: p["code"] for p in body["problems"]}
    assert codes == {"email": "wrong_type", "phone": "missing"}
    assert FieldMapping.objects.count() == count


@pytest.mark.parametrize("sample", ["not json", "[1, 2]", 42, "a.b.c"])
def test_mapping_try_bad_sample_names_the_field(api: APIClient, sample: Any) -> None:
    response = api.post("/api/v1/field-mappings/try/", {"sample": sample}, format="json")
    assert response.status_code == 400
    assert "sample" in response.json()


# Routing rules.


def test_routing_rule_crud_and_campaign_of_another_site(
    api: APIClient, site: Site, other_site: Site
) -> None:
    mine = CampaignFactory.create(site=site)
    theirs = CampaignFactory.create(site=other_site)
    body = {
        "campaign": mine.pk,
        "field": "membership_level",
        "operator": "equals",
        "value": "VIP",
        "group": "vip",
    }
    created = api.post("/api/v1/routing-rules/", body, format="json")
    assert created.status_code == 201, created.content
    assert RoutingRule.objects.get().site == site
    assert results(api.get(f"/api/v1/routing-rules/?campaign={mine.pk}"))[0]["group"] == "vip"
    assert results(api.get(f"/api/v1/routing-rules/?campaign={theirs.pk}")) == []
    refused = api.post("/api/v1/routing-rules/", {**body, "campaign": theirs.pk}, format="json")
    assert refused.status_code == 400
    assert "campaign" in refused.json()
    bad_op = api.post("/api/v1/routing-rules/", {**body, "operator": "like"}, format="json")
    assert "operator" in bad_op.json()


# Email domains.


def test_email_domains(api: APIClient, site: Site, other_site: Site) -> None:
    created = api.post("/api/v1/email-domains/", {"domain": "@Shop.Example"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["domain"] == "shop.example"
    assert created.json()["verified_at"] is None
    assert created.json()["txt_record"].startswith("sso-gateway-verification=")
    dup = api.post("/api/v1/email-domains/", {"domain": "shop.example"}, format="json")
    assert dup.status_code == 400
    assert "domain" in dup.json()
    bad = api.post("/api/v1/email-domains/", {"domain": "localhost"}, format="json")
    assert "domain" in bad.json()
    theirs = SiteDomain.objects.create(site=other_site, domain="b.example")
    assert api.delete(f"/api/v1/email-domains/{theirs.pk}/").status_code == 404
    assert [d["domain"] for d in results(api.get("/api/v1/email-domains/"))] == ["shop.example"]


def test_docs_walkthrough_mapping_example(api: APIClient) -> None:
    """The example of docs/api.md, step 3, answers as the page says."""
    var = api.post(
        "/api/v1/custom-variables/",
        {"key": "tier", "label": "Tier", "type": "choice", "choices": "gold\nsilver"},
        format="json",
    ).json()["id"]
    created = api.post(
        "/api/v1/field-mappings/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "source": "account.tier",
            "target": "custom",
            "variable": var,
            "lower": True,
        },
        format="json",
    )
    assert created.status_code == 201
    tried = api.post(
        "/api/v1/field-mappings/try/",
        {
            "audience": "visitor",
            "protocol": "jwt",
            "sample": {"external_id": "u-1", "account": {"tier": "GOLD"}},
        },
        format="json",
    ).json()
    assert tried["ok"] is True
    assert tried["values"]["custom.tier"] == "gold"
    assert tried["problems"] == []


def test_schema_as_json(client) -> None:
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
