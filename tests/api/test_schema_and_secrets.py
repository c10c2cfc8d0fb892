"""The OpenAPI schema and its docs; no secret in any response."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient

from campaigns.models import Visitor
from sso.jwt.models import JwtSettings
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_decrypt
from tenants.models import Agent, LoginEvent, Site
from tests.api.test_settings import SECRET, jwt_body, saml_body
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema: dict[str, Any] = yaml.safe_load(response.content)
    return schema


def test_schema_is_openapi_3_with_bearer_auth(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.")
    assert openapi["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    paths = set(openapi["paths"])
    for expected in [
        "/api/v1/agents/",
        "/api/v1/agents/{id}/deactivate/",
        "/api/v1/campaigns/",
        "/api/v1/custom-variables/",
        "/api/v1/field-mappings/try/",
        "/api/v1/routing-rules/",
        "/api/v1/email-domains/",
        "/api/v1/site/",
        "/api/v1/saml-settings/{audience}/",
        "/api/v1/jwt-settings/{audience}/",
        "/api/v1/visitors/",
        "/api/v1/chats/",
        "/api/v1/login-events/",
        "/api/v1/changes/",
    ]:
        assert expected in paths


def test_every_operation_documents_its_errors(openapi: dict[str, Any]) -> None:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
            if method != "get":
                assert "409" in codes, (method, path)
            settings_write = "settings" in path or path.endswith("/site/")
            if settings_write and method in {"put", "patch"}:
                assert {"412", "428"} <= codes, (method, path)


def test_docs_are_served_from_our_own_static_files(client: Client) -> None:
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(url).content.decode()
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
        assert scripts, url
        # No inline script either (a strict CSP would block it): Swagger UI's
        # set-up comes from the same URL with ?script.
        assert not re.search(r"<script>\s*\S", page), url
        for src in scripts:
            assert not src.startswith(("http:", "https:", "//")), src
            if src.startswith(url):
                script = client.get(src)
                assert script.status_code == 200
                assert "/api/v1/schema/" in script.content.decode()
                continue
            assert src.startswith("/static/"), src
            assert finders.find(src.removeprefix("/static/")), src


def test_no_secret_in_any_response(
    api: APIClient, site: Site, openapi: dict[str, Any], agent: Agent
) -> None:
    from tests.api.test_settings import idp_cert_pem

    api.put("/api/v1/jwt-settings/agent/", jwt_body(), format="json", HTTP_IF_NONE_MATCH="*")
    created = api.put(
        "/api/v1/saml-settings/visitor/",
        saml_body(idp_cert_pem()),
        format="json",
        HTTP_IF_NONE_MATCH="*",
    )
    assert created.status_code == 201
    Visitor.objects.create(site=site, external_id="v-1")
    CampaignFactory.create(site=site)
    LoginEvent.objects.create(site=site, audience="agent", outcome="success")
    jwt_row = JwtSettings.objects.get(site=site)
    saml_row = SamlSettings.objects.get(site=site)
    key_pem = secret_decrypt(saml_row.sp_private_key_encrypted)
    assert key_pem
    token = api.token  # type: ignore[attr-defined]
    raw_token = api._credentials["HTTP_AUTHORIZATION"].split()[1]  # type: ignore[attr-defined]
    forbidden = {
        SECRET,
        jwt_row.secret_encrypted,
        saml_row.sp_private_key_encrypted,
        key_pem.strip().splitlines()[1],  # a line of the key's base64
        raw_token,
        token.digest,
    }
    bodies = []
    for path, item in openapi["paths"].items():
        if "get" not in item:
            continue
        url = path.replace("{audience}", "agent")
        bodies.append(api.get(url.replace("{id}", "1")).content.decode())
        if "{id}" not in path and "{audience}" not in path:
            listed = api.get(url)
            bodies.append(listed.content.decode())
            for row in listed.json().get("results", [])[:3]:
                bodies.append(api.get(f"{url}{row['id']}/").content.decode())
    bodies.append(api.get("/api/v1/saml-settings/visitor/").content.decode())
    assert len(bodies) > 20
    for body in bodies:
        assert "PRIVATE KEY" not in body
        for secret in forbidden:
            assert secret not in body
