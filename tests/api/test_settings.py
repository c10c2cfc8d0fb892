"""Settings over the API: the site, SAML and JWT for both audiences.

ETag/If-Match keeps two writers from overwriting each other; secrets and
private keys are write-only.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import connection
from rest_framework.test import APIClient

from api.models import ApiChange
from sso.jwt.models import JwtSettings
from sso.saml.metadata import sp_key_pair_generate
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_decrypt
from tenants.models import Site
from tests.api.conftest import last_change

pytestmark = pytest.mark.django_db

SECRET = "s3cret-" + "x" * 40


_CERT: list[str] = []


def idp_cert_pem() -> str:
    """Return a certificate for the identity provider (made once per run)."""
    if not _CERT:
        _CERT.append(sp_key_pair_generate(common_name="idp.example")[1])
    return _CERT[0]


@pytest.fixture
def idp_cert() -> str:
    return idp_cert_pem()


def rsa_public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def jwt_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "enabled": True,
        "login_url": "https://idp.example/login",
        "algorithm": "HS256",
        "secret": SECRET,
    }
    body.update(overrides)
    return body


def saml_body(cert: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "enabled": True,
        "source": "manual",
        "idp_entity_id": "https://idp.example/metadata",
        "sso_url": "https://idp.example/sso",
        "signing_cert": cert,
    }
    body.update(overrides)
    return body


# The site.


def test_site_settings_read_and_update_with_if_match(api: APIClient, site: Site) -> None:
    read = api.get("/api/v1/site/")
    assert read.status_code == 200
    assert read.json()["site_id"] == site.site_id
    assert read.json()["allowed_origins"] == ["https://shop.example"]
    etag = read["ETag"]
    origins = ["https://shop.example", "https://www.shop.example:8443"]
    response = api.patch(
        "/api/v1/site/", {"allowed_origins": origins}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    site.refresh_from_db()
    assert site.allowed_origin_list == origins
    assert last_change().fields == ["allowed_origins"]


def test_site_settings_validation_names_the_field(api: APIClient, site: Site) -> None:
    etag = api.get("/api/v1/site/")["ETag"]
    bad = api.patch(
        "/api/v1/site/",
        {"allowed_origins": ["https://ok.example", "javascript:alert(1)"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert bad.status_code == 400
    assert "allowed_origins" in bad.json()
    short = api.patch("/api/v1/site/", {"session_lifetime": 5}, format="json", HTTP_IF_MATCH=etag)
    assert short.status_code == 400
    assert "session_lifetime" in short.json()


def test_site_id_and_active_flag_are_read_only(api: APIClient, site: Site) -> None:
    etag = api.get("/api/v1/site/")["ETag"]
    api.patch(
        "/api/v1/site/",
        {"site_id": 55555, "is_active": False},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    site.refresh_from_db()
    assert (site.site_id, site.is_active) == (10001, True)


def test_settings_write_without_if_match_is_428(api: APIClient, site: Site) -> None:
    response = api.patch("/api/v1/site/", {"name": "Renamed"}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    site.refresh_from_db()
    assert site.name == "Site A"


def test_concurrent_settings_updates_second_is_412(api: APIClient, site: Site) -> None:
    etag = api.get("/api/v1/site/")["ETag"]
    first = api.patch("/api/v1/site/", {"name": "First"}, format="json", HTTP_IF_MATCH=etag)
    second = api.patch("/api/v1/site/", {"name": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    site.refresh_from_db()
    assert site.name == "First"
    assert ApiChange.objects.filter(action="update").count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_writers_with_one_etag_only_one_wins(site: Site, token_factory: Any) -> None:
    """Two threads, each its own connection, the same If-Match: the row lock
    makes the second see the first's change and answer 412."""
    _, raw = token_factory(site)
    etag = _client(raw).get("/api/v1/site/")["ETag"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def write(name: str) -> None:
        client = _client(raw)
        barrier.wait()
        response = client.patch("/api/v1/site/", {"name": name}, format="json", HTTP_IF_MATCH=etag)
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# SAML.


@pytest.mark.parametrize("audience", ["agent", "visitor"])
def test_saml_settings_create_read_update(
    api: APIClient, site: Site, idp_cert: str, audience: str
) -> None:
    url = f"/api/v1/saml-settings/{audience}/"
    assert api.get(url).status_code == 404
    assert api.put(url, saml_body(idp_cert), format="json").status_code == 428
    created = api.put(url, saml_body(idp_cert), format="json", HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["audience"] == audience
    assert body["sp"]["acs"].endswith(f"/sso/{site.site_id}/{audience}/saml/acs/")
    assert body["sp"]["entity_id"] == body["sp"]["metadata"]
    assert body["sp_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    row = SamlSettings.objects.get(site=site, audience=audience)
    assert row.sp_private_key_encrypted
    updated = api.patch(
        url,
        {"allow_sha1": True, "authn_requests_signed": True},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert updated.status_code == 200
    row.refresh_from_db()
    assert row.allow_sha1
    assert row.authn_requests_signed
    assert sorted(last_change().fields) == ["allow_sha1", "authn_requests_signed"]


def test_saml_validation_names_the_field(api: APIClient, idp_cert: str) -> None:
    url = "/api/v1/saml-settings/agent/"
    response = api.put(url, saml_body("not a certificate"), format="json", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 400
    assert "signing_cert" in response.json()
    missing = api.put(url, saml_body(idp_cert, sso_url=""), format="json", HTTP_IF_NONE_MATCH="*")
    assert missing.status_code == 400
    assert "sso_url" in missing.json()
    assert not SamlSettings.objects.exists()


def test_saml_settings_of_another_site_are_404(
    api_b: APIClient, api: APIClient, idp_cert: str
) -> None:
    api.put(
        "/api/v1/saml-settings/agent/", saml_body(idp_cert), format="json", HTTP_IF_NONE_MATCH="*"
    )
    assert api_b.get("/api/v1/saml-settings/agent/").status_code == 404


def test_unknown_audience_is_404(api: APIClient) -> None:
    assert api.get("/api/v1/saml-settings/operator/").status_code == 404
    assert api.get("/api/v1/jwt-settings/operator/").status_code == 404


# JWT.


def test_jwt_secret_is_write_only(api: APIClient, site: Site) -> None:
    url = "/api/v1/jwt-settings/agent/"
    created = api.put(url, jwt_body(), format="json", HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201, created.content
    assert SECRET not in created.content.decode()
    body = api.get(url).json()
    assert "secret" not in body
    assert body["has_secret"] is True
    assert body["secret_fingerprint"]
    assert body["callback_url"].endswith(f"/sso/{site.site_id}/agent/jwt/")
    row = JwtSettings.objects.get(site=site, audience="agent")
    assert secret_decrypt(row.secret_encrypted) == SECRET
    assert SECRET not in row.secret_encrypted
    assert "secret" in last_change().fields


def test_jwt_short_secret_and_bad_key_are_refused(api: APIClient) -> None:
    url = "/api/v1/jwt-settings/agent/"
    short = api.put(url, jwt_body(secret="short"), format="json", HTTP_IF_NONE_MATCH="*")
    assert short.status_code == 400
    assert "secret" in short.json()
    bad_key = api.put(
        url,
        jwt_body(algorithm="RS256", secret=None, public_key="-----BEGIN PUBLIC KEY-----\nxx"),
        format="json",
        HTTP_IF_NONE_MATCH="*",
    )
    assert bad_key.status_code == 400
    assert not JwtSettings.objects.exists()


def test_jwt_rs256_with_public_key(api: APIClient, site: Site) -> None:
    body = jwt_body(algorithm="RS256", public_key=rsa_public_pem(), public_key_id="k1")
    del body["secret"]
    created = api.put("/api/v1/jwt-settings/agent/", body, format="json", HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201, created.content
    assert created.json()["public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def test_jwt_audiences_may_not_share_a_secret(api: APIClient) -> None:
    first = api.put(
        "/api/v1/jwt-settings/agent/", jwt_body(), format="json", HTTP_IF_NONE_MATCH="*"
    )
    assert first.status_code == 201
    second = api.put(
        "/api/v1/jwt-settings/visitor/", jwt_body(), format="json", HTTP_IF_NONE_MATCH="*"
    )
    assert second.status_code == 400
    assert "enabled" in second.json() or "secret" in second.json() or second.json()


def test_jwt_concurrent_updates_refused_by_if_match(api: APIClient) -> None:
    url = "/api/v1/jwt-settings/agent/"
    created = api.put(url, jwt_body(), format="json", HTTP_IF_NONE_MATCH="*")
    etag = created["ETag"]
    assert api.patch(url, {"leeway": 30}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    stale = api.patch(url, {"leeway": 10}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert JwtSettings.objects.get().leeway == 30
    again = api.put(url, jwt_body(), format="json", HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 412
