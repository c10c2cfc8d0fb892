"""Admin: mappings and variables inline under the site, the duplicate-target
refusal, the "try it" page, and operators seeing only their own sites.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from mapping.models import CustomVariable, FieldMapping
from tenants.models import Site
from tenants.services import operator_grant
from tests.mapping.shapes import mapping, variable

TRY_URL = "/admin/mapping/fieldmapping/try/"


@pytest.fixture
def operator_client(site: Site, other_site: Site) -> Client:
    user = User.objects.create_user("olga", "olga@a.example", "pw-olga-123")
    operator_grant(site=site, user=user)
    client = Client()
    client.force_login(user)
    return client


def site_change_url(site: Site) -> str:
    return reverse("admin:tenants_site_change", args=[site.pk])


def form_data(response: Any) -> dict[str, Any]:
    """Return the POST data the change page would send back unchanged."""
    data: dict[str, Any] = {}
    main = response.context["adminform"].form
    for name in main.fields:
        _put(data, main, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.initial_forms:
            for name in form.fields:
                _put(data, form, name)
    return data


def _put(data: dict[str, Any], form: Any, name: str) -> None:
    value = form[name].value()
    if value is False or value is None:
        return
    data[form.add_prefix(name)] = "on" if value is True else value


def add_rows(data: dict[str, Any], prefix: str, rows: list[dict[str, Any]]) -> None:
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{total + offset}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(total + len(rows))


def new_mapping(**values: Any) -> dict[str, Any]:
    row = {"audience": "visitor", "protocol": "jwt", "multi_value": "first", "trim": "on"}
    row.update(values)
    return row


def test_the_site_page_edits_variables_and_mappings_inline(
    operator_client: Client, site: Site
) -> None:
    response = operator_client.get(site_change_url(site))
    assert response.status_code == 200
    assert 'id="try-mappings"' in response.content.decode()
    data = form_data(response)
    add_rows(
        data, "custom_variables", [{"key": "tier", "label": "Tier", "type": "text", "order": "1"}]
    )
    add_rows(data, "field_mappings", [new_mapping(source="phone_number", target="phone")])

    response = operator_client.post(site_change_url(site), data)

    assert response.status_code == 302, response.context and [
        f.errors for i in response.context["inline_admin_formsets"] for f in i.formset
    ]
    assert CustomVariable.objects.get(site=site).key == "tier"
    row = FieldMapping.objects.get(site=site, target="phone")
    assert (row.source, row.type) == ("phone_number", "text")


def test_two_new_mappings_to_one_target_are_refused(operator_client: Client, site: Site) -> None:
    data = form_data(operator_client.get(site_change_url(site)))
    add_rows(
        data,
        "field_mappings",
        [
            new_mapping(source="tel", target="phone"),
            new_mapping(source="mobile", target="phone"),
        ],
    )
    response = operator_client.post(site_change_url(site), data)
    assert response.status_code == 200
    assert "Two mappings to one target are refused" in response.content.decode()
    assert not FieldMapping.objects.filter(target="phone").exists()


def test_a_mapping_to_an_already_mapped_target_is_refused(
    operator_client: Client, site: Site
) -> None:
    # The defaults already map the visitor's name from the JWT claim "name".
    data = form_data(operator_client.get(site_change_url(site)))
    add_rows(data, "field_mappings", [new_mapping(source="nickname", target="name")])
    response = operator_client.post(site_change_url(site), data)
    assert response.status_code == 200
    assert "Two mappings to one target are refused" in response.content.decode()
    assert not FieldMapping.objects.filter(source="nickname").exists()


def test_two_mappings_to_one_custom_variable_are_refused(
    operator_client: Client, site: Site
) -> None:
    tier = variable(site, "tier")
    mapping(site, source="tier", variable=tier)
    data = form_data(operator_client.get(site_change_url(site)))
    add_rows(
        data, "field_mappings", [new_mapping(source="level", target="custom", variable=tier.pk)]
    )
    response = operator_client.post(site_change_url(site), data)
    assert response.status_code == 200
    assert "Two mappings to one target are refused: Tier is already mapped" in (
        response.content.decode()
    )
    # The same target for another protocol or audience is a different mapping.
    add_rows(data, "field_mappings", [])
    data["field_mappings-" + str(int(data["field_mappings-TOTAL_FORMS"]) - 1) + "-protocol"] = (
        "saml"
    )
    assert operator_client.post(site_change_url(site), data).status_code == 302
    assert FieldMapping.objects.filter(variable=tier).count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"source": "x", "target": "department"}, "not available for visitors"),
        ({"source": "x", "target": "custom"}, "Choose the custom variable"),
        ({"source": "x", "target": "email", "default": "nobody"}, "Not a valid email value"),
        ({"source": "x", "target": "name", "multi_value": "all"}, "holds a single value"),
    ],
)
def test_invalid_mappings_are_explained(
    operator_client: Client, site: Site, row: dict[str, Any], message: str
) -> None:
    FieldMapping.objects.filter(site=site).delete()
    data = form_data(operator_client.get(site_change_url(site)))
    add_rows(data, "field_mappings", [new_mapping(**row)])
    response = operator_client.post(site_change_url(site), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FieldMapping.objects.filter(site=site).exists()


def test_an_operator_sees_only_their_sites_mappings_and_variables(
    operator_client: Client, site: Site, other_site: Site
) -> None:
    mine = variable(site, "mine_var")
    theirs = variable(other_site, "theirs_var")
    their_mapping = mapping(other_site, source="their_source", variable=theirs)

    listing = operator_client.get("/admin/mapping/fieldmapping/").content.decode()
    assert "their_source" not in listing
    assert "name" in listing
    variables = operator_client.get("/admin/mapping/customvariable/").content.decode()
    assert "mine_var" in variables
    assert "theirs_var" not in variables
    for url in [
        reverse("admin:mapping_fieldmapping_change", args=[their_mapping.pk]),
        reverse("admin:mapping_customvariable_change", args=[theirs.pk]),
    ]:
        response = operator_client.get(url)
        assert response.status_code in {302, 403, 404}
        assert "their_source" not in response.content.decode()
    assert operator_client.get(site_change_url(other_site)).status_code in {302, 403, 404}
    # The variable choices of site A's inline hold site A's variables only.
    page = operator_client.get(site_change_url(site)).content.decode()
    assert f'<option value="{mine.pk}"' in page
    assert f'<option value="{theirs.pk}"' not in page


def test_try_it_maps_a_json_sample(operator_client: Client, site: Site) -> None:
    tier = variable(site, "tier", "choice", choices="VIP\nBasic")
    mapping(site, source="account.tier", variable=tier, lower=True)
    sample = {"name": "Ann", "email": "ANN@x.example", "account": {"tier": "vip"}}

    response = operator_client.post(
        TRY_URL,
        {"site": site.pk, "audience": "visitor", "protocol": "jwt", "sample": json.dumps(sample)},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="mapping-ok"' in page
    result = response.context["result"]
    assert result.values == {
        "name": "Ann",
        "email": "ann@x.example",
        "custom.tier": "VIP",
    }
    assert not FieldMapping.objects.filter(site=site, source="account.tier", required=True)


def test_try_it_decodes_a_jwt_without_verifying_it_and_says_so(
    operator_client: Client, site: Site
) -> None:
    mapping(site, source="phone", target="phone", required=True)
    token = jwt.encode({"name": "Ann", "sub": "c-1"}, "some-key-we-do-not-have-" * 2, "HS256")

    response = operator_client.post(
        TRY_URL, {"site": site.pk, "audience": "visitor", "protocol": "jwt", "sample": token}
    )

    page = response.content.decode()
    assert "WITHOUT verifying its signature" in page
    assert 'id="problems"' in page
    assert "phone -&gt; phone: is required but missing" in page
    assert response.context["result"].values == {"name": "Ann"}


def test_try_it_reads_saml_attributes(operator_client: Client, site: Site) -> None:
    sample = {"urn:oid:0.9.2342.19200300.100.1.3": ["a@x.example"], "displayName": ["Ann"]}
    response = operator_client.post(
        TRY_URL,
        {"site": site.pk, "audience": "visitor", "protocol": "saml", "sample": json.dumps(sample)},
    )
    assert response.context["result"].values == {"name": "Ann", "email": "a@x.example"}


@pytest.mark.parametrize(
    ("sample", "error"),
    [
        ("not json", "Paste a JWT"),
        ("[1, 2]", "must be an object"),
        ("a.b.c", "not a readable JWT"),
    ],
)
def test_try_it_explains_unreadable_samples(
    operator_client: Client, site: Site, sample: str, error: str
) -> None:
    response = operator_client.post(
        TRY_URL, {"site": site.pk, "audience": "visitor", "protocol": "jwt", "sample": sample}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "result" not in response.context


def test_try_it_offers_only_the_operators_sites(
    operator_client: Client, site: Site, other_site: Site
) -> None:
    page = operator_client.get(TRY_URL).content.decode()
    assert f'<option value="{site.pk}"' in page
    assert f'<option value="{other_site.pk}"' not in page
    response = operator_client.post(
        TRY_URL,
        {"site": other_site.pk, "audience": "visitor", "protocol": "jwt", "sample": "{}"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert "result" not in response.context


def test_try_it_needs_an_admin_login(client: Client) -> None:
    response = client.get(TRY_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_mapping_list_refuses_a_duplicate_target_too(
    operator_client: Client, site: Site, other_site: Site
) -> None:
    data = {
        "site": site.pk,
        "audience": "visitor",
        "protocol": "jwt",
        "source": "nickname",
        "multi_value": "first",
        "target": "email",
        "trim": "on",
    }
    response = operator_client.post("/admin/mapping/fieldmapping/add/", data)
    assert response.status_code == 200
    assert "Two mappings to one target are refused." in response.content.decode()
    # Another site is not offered to this operator at all.
    response = operator_client.post(
        "/admin/mapping/fieldmapping/add/", {**data, "site": other_site.pk, "target": "phone"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not FieldMapping.objects.filter(source="nickname").exists()


def test_the_mapping_list_refuses_a_type_the_target_cannot_hold(
    operator_client: Client, site: Site
) -> None:
    data = {
        "site": site.pk,
        "audience": "visitor",
        "protocol": "saml",
        "source": "tel",
        "multi_value": "first",
        "target": "phone",
        "type": "number",
        "trim": "on",
    }
    response = operator_client.post("/admin/mapping/fieldmapping/add/", data)
    assert "This target holds values of type text." in response.content.decode()
    response = operator_client.post("/admin/mapping/fieldmapping/add/", {**data, "type": ""})
    assert response.status_code == 302
    assert FieldMapping.objects.get(site=site, source="tel").type == "text"


def _row_index(data: dict[str, Any], *, audience: str, protocol: str, target: str) -> int:
    for key, value in data.items():
        if key.startswith("field_mappings-") and key.endswith("-target") and value == target:
            index = int(key.split("-")[1])
            prefix = f"field_mappings-{index}"
            if (data[f"{prefix}-audience"], data[f"{prefix}-protocol"]) == (audience, protocol):
                return index
    raise AssertionError(target)


def test_try_it_runs_the_unsaved_mappings_of_the_site_page(
    operator_client: Client, site: Site
) -> None:
    page = operator_client.get(site_change_url(site))
    assert 'data-try-unsaved="' in page.content.decode()
    data = form_data(page)
    name = _row_index(data, audience="visitor", protocol="jwt", target="name")
    email = _row_index(data, audience="visitor", protocol="jwt", target="email")
    data[f"field_mappings-{name}-source"] = "nickname"
    data[f"field_mappings-{email}-DELETE"] = "on"
    add_rows(data, "field_mappings", [new_mapping(source="tel", target="phone", required="on")])
    sample = {"name": "Ann", "nickname": "Annie", "email": "a@x.example", "tel": "+1 555"}
    data.update(
        _try_unsaved="1",
        tryit_audience="visitor",
        tryit_protocol="jwt",
        tryit_sample=json.dumps(sample),
    )

    response = operator_client.post(f"{TRY_URL}?site={site.pk}", data)

    assert response.status_code == 200
    assert 'id="unsaved-note"' in response.content.decode()
    assert response.context["result"].values == {"name": "Annie", "phone": "+1 555"}
    # Nothing was saved.
    saved = FieldMapping.objects.get(site=site, audience="visitor", protocol="jwt", target="name")
    assert saved.source == "name"
    assert FieldMapping.objects.filter(site=site, target="email", protocol="jwt").exists()
    assert not FieldMapping.objects.filter(target="phone").exists()


def test_try_it_lists_the_invalid_rows_of_the_site_page(
    operator_client: Client, site: Site
) -> None:
    data = form_data(operator_client.get(site_change_url(site)))
    add_rows(data, "field_mappings", [new_mapping(source="nick", target="name")])
    data.update(_try_unsaved="1", tryit_audience="visitor", tryit_protocol="jwt", tryit_sample="{}")

    response = operator_client.post(f"{TRY_URL}?site={site.pk}", data)

    page = response.content.decode()
    assert 'id="row-problems"' in page
    assert "Two mappings to one target are refused" in page
    assert "result" not in response.context


def test_try_it_refuses_another_sites_page(
    operator_client: Client, site: Site, other_site: Site
) -> None:
    data = form_data(operator_client.get(site_change_url(site)))
    data.update(_try_unsaved="1", tryit_audience="visitor", tryit_protocol="jwt", tryit_sample="{}")
    response = operator_client.post(f"{TRY_URL}?site={other_site.pk}", data)
    assert response.status_code == 403
