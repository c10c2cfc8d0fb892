"""Inputs that once answered HTTP 500 answer 4xx (or are ignored) with a code;
a refused return_to spends no token; operators see why a mapping refused
(issue 10).

SECURITY.md "Every input parsed at one boundary"; RFC 8725 3.x / OWASP JWT
(a token is consumed only once everything about it is known to be good).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from mapping.models import FieldMapping
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site, UsedToken
from tests.fixtures.jwt import JwtFactory, callback_url, reason_on_page, session_binding

DIGITS = ["\u0661\u0660\u0660\u0660\u0661", "1000\u00b2", "\uff11\uff10\uff10\uff10\uff11"]
TRY_URL = "/admin/mapping/fieldmapping/try/"


@pytest.fixture
def root(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@a.example", "pw-root-12345"))
    return client


@pytest.mark.parametrize("value", DIGITS)
def test_a_remembered_site_id_of_other_digits_is_ignored(
    client: Client, site: Site, value: str
) -> None:
    client.cookies[settings.SSO_SITE_COOKIE] = value.encode("utf-8").decode("latin-1")
    response = client.get("/agent/login/")
    assert response.status_code == 200
    assert 'id="remembered-site"' not in response.content.decode()


@pytest.mark.parametrize("value", DIGITS)
def test_the_site_id_form_takes_ascii_digits_only(client: Client, site: Site, value: str) -> None:
    response = client.post("/agent/login/", {"site_id": value})
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["site_id"][0].code == "invalid"
    assert settings.SSO_SITE_COOKIE not in response.cookies


@pytest.mark.parametrize(
    "query",
    ["created_at__year=99999", "created_at__month=13", "created_at__day=\u0661", "x__year=\x00"],
)
@pytest.mark.parametrize(
    "model", ["tenants/loginevent", "tenants/agent", "tenants/site", "auth/user", "auth/group"]
)
def test_admin_changelists_validate_date_filters(
    root: Client, site: Site, model: str, query: str
) -> None:
    query = query.replace("created_at", "date_joined") if model == "auth/user" else query
    response = root.get(f"/admin/{model}/", QUERY_STRING=quote(query, safe="=&"))
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    if not model.startswith("auth/"):
        assert root.get(f"/admin/{model}/", {"created_at__year": "2026"}).status_code == 200


@pytest.mark.parametrize("value", ["\u00b2", "abc", "\x00", "1,\u0662"])
def test_admin_add_pages_drop_prefilled_keys_that_are_no_keys(
    root: Client, site: Site, value: str
) -> None:
    response = root.get("/admin/tenants/agent/add/", {"site": value, "email": "a\x00b"})
    assert response.status_code == 200
    assert root.get("/admin/tenants/agent/add/", {"site": site.pk}).status_code == 200


def test_try_it_with_a_site_that_is_no_number_is_refused(root: Client, site: Site) -> None:
    response = root.post(f"{TRY_URL}?site=abc", {"_try_unsaved": "1"})
    assert response.status_code == 403
    assert root.get(TRY_URL, {"site": "\u00b2"}).status_code == 200


@pytest.mark.parametrize(
    ("sample", "error"),
    [
        ("[" * 3000, "nests deeper than"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('{"a": "\\u0000"}', "NUL character"),
    ],
)
def test_try_it_reads_the_sample_at_the_boundary(
    root: Client, site: Site, sample: str, error: str
) -> None:
    response = root.post(
        TRY_URL, {"site": site.pk, "audience": "visitor", "protocol": "jwt", "sample": sample}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "result" not in response.context


def test_a_refused_return_to_does_not_spend_the_token(
    client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: JwtFactory
) -> None:
    jwt_configure(site)
    token = jwt_factory(site)

    refused = client.get(callback_url(site), {"jwt": token, "return_to": "https://evil.example/"})

    assert refused.status_code == 403
    assert reason_on_page(refused) == RefusalReason.UNSAFE_REDIRECT
    assert session_binding(client) is None
    assert not UsedToken.objects.exists()
    assert LoginEvent.objects.get().reason == RefusalReason.UNSAFE_REDIRECT
    # The same token, with a permitted return_to, still signs in.
    assert client.get(callback_url(site), {"jwt": token}).status_code == 302
    assert session_binding(client)["principal"] == jwt_agent.pk


@pytest.mark.parametrize(
    ("dept", "code", "words"),
    [(None, "missing", "missing"), (["x", {"y": 1}], "wrong_type", "wrongly typed")],
)
def test_operators_see_which_field_refused_and_why(
    client: Client,
    root: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    dept: Any,
    code: str,
    words: str,
) -> None:
    jwt_configure(site)
    FieldMapping.objects.create(
        site=site,
        audience="agent",
        protocol="jwt",
        source="dept",
        target="department",
        type="text",
        required=True,
        multi_value="all",
    )
    response = client.get(callback_url(site), {"jwt": jwt_factory(site, dept=dept)})

    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.MAPPING_FAILED
    page = response.content.decode()
    assert "dept" not in page  # the visitor's page stays short
    event = LoginEvent.objects.get()
    assert event.detail["problems"] == [{"source": "dept", "target": "department", "code": code}]
    listing = root.get("/admin/tenants/loginevent/").content.decode()
    assert f"department (dept): {words}" in listing
