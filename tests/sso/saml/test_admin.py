"""SAML settings in the admin: bad metadata or certificates are refused on
save with a precise message; operators see only their sites' settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from devidp.idp import DevIdp
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from tenants.models import Site
from tenants.services import operator_grant
from tests.fixtures.saml import saml_settings_create

ADD_URL = reverse("admin:sso_saml_samlsettings_add")


def _form(site: Site, **fields: Any) -> dict[str, Any]:
    data = {
        "site": site.pk,
        "audience": "agent",
        "enabled": "on",
        "source": "xml",
        "metadata_xml": "",
        "metadata_url": "",
        "idp_entity_id": "",
        "sso_url": "",
        "sso_binding": SamlSettings.Binding.REDIRECT,
        "slo_url": "",
        "signing_cert": "",
        "signing_cert_next": "",
        "email_attribute": "",
        "mfa_context_refs": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def admin_client_(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@x.example", "pw"))
    return client


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"metadata_xml": "<md:EntityDescriptor"}, "metadata_xml", "not well-formed XML"),
        (
            {"metadata_xml": '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'},
            "metadata_xml",
            "refused",
        ),
        ({"metadata_xml": "<x/>"}, "metadata_xml", "one identity provider, not 0"),
        (
            {
                "source": "manual",
                "idp_entity_id": "https://idp.example",
                "sso_url": "https://idp.example/sso",
            },
            "signing_cert",
            "Paste the IdP",
        ),
        (
            {
                "source": "manual",
                "idp_entity_id": "https://idp.example",
                "sso_url": "https://idp.example/sso",
                "signing_cert": "MIIB-not-a-cert",
            },
            "signing_cert",
            "not a valid PEM X.509 certificate",
        ),
        ({"source": "url", "metadata_url": ""}, "metadata_url", "Enter the IdP"),
        (
            {"source": "url", "metadata_url": "http://127.0.0.1:9/metadata"},
            "metadata_url",
            "private or reserved network",
        ),
        (
            {"source": "url", "metadata_url": "https://no-such-host.invalid/metadata"},
            "metadata_url",
            "does not resolve",
        ),
    ],
    ids=[
        "broken-xml",
        "dtd",
        "no-idp",
        "no-cert",
        "bad-cert",
        "no-url",
        "private-url",
        "unresolvable-url",
    ],
)
def test_admin_refuses_invalid_idp_settings(
    admin_client_: Client, site: Site, fields: dict[str, str], field: str, message: str
) -> None:
    response = admin_client_.post(ADD_URL, _form(site, **fields))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not SamlSettings.objects.exists()


def test_admin_saves_manual_settings_with_two_certificates(
    admin_client_: Client, site: Site, idp_a: DevIdp, idp_b: DevIdp
) -> None:
    fields = {
        "source": "manual",
        "idp_entity_id": idp_a.entity_id,
        "sso_url": idp_a.sso_url,
        "slo_url": idp_a.slo_url,
        "signing_cert": Path(idp_a.cert_file).read_text(),
        "signing_cert_next": Path(idp_b.cert_file).read_text(),
    }
    response = admin_client_.post(ADD_URL, _form(site, **fields))

    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = SamlSettings.objects.get(site=site)
    assert saved.idp_metadata_xml.count("X509Certificate>") == 4  # two, open and close
    assert saved.sp_private_key_encrypted  # generated; tests/sso/saml/test_key_storage.py


def test_short_rsa_key_certificate_is_refused(site: Site, idp_a: DevIdp) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weak")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    settings = SamlSettings(
        site=site,
        source=SamlSettings.Source.MANUAL,
        idp_entity_id="https://weak",
        sso_url="https://weak/sso",
        signing_cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )
    with pytest.raises(ValidationError, match="1024-bit RSA key"):
        saml_settings_save(settings)


class _MetadataHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def metadata_server(idp_a: DevIdp) -> Iterator[str]:
    handler = type("Handler", (_MetadataHandler,), {"body": idp_a.metadata_xml().encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata"
    server.shutdown()


def test_metadata_url_on_a_private_network_is_refused(
    admin_client_: Client, site: Site, metadata_server: str
) -> None:
    response = admin_client_.post(ADD_URL, _form(site, source="url", metadata_url=metadata_server))

    errors = response.context["adminform"].form.errors
    assert "on a private or reserved network" in " ".join(errors["metadata_url"])
    assert not SamlSettings.objects.exists()


def test_metadata_url_is_fetched_and_validated_on_save(
    admin_client_: Client,
    site: Site,
    idp_a: DevIdp,
    metadata_server: str,
    settings: Any,
) -> None:
    settings.SSO_SAML_METADATA_PRIVATE_HOSTS = True  # the test server is local
    response = admin_client_.post(ADD_URL, _form(site, source="url", metadata_url=metadata_server))

    assert response.status_code == 302
    saved = SamlSettings.objects.get(site=site)
    assert saved.idp_entity_id == idp_a.entity_id
    assert saved.idp_metadata_xml.startswith("<")


def test_mfa_required_needs_accepted_contexts(site: Site, idp_a: DevIdp) -> None:
    with pytest.raises(ValidationError, match="AuthnContextClassRef"):
        saml_settings_create(site, idp_a, mfa_required=True)


def test_operator_sees_only_own_sites_settings(
    site: Site, other_site: Site, idp_a: DevIdp, idp_b: DevIdp
) -> None:
    mine = saml_settings_create(site, idp_a)
    theirs = saml_settings_create(other_site, idp_b)
    operator = User.objects.create_user("op", "op@x.example", "pw")
    operator_grant(site=site, user=operator)
    client = Client()
    client.force_login(operator)

    listing = client.get(reverse("admin:sso_saml_samlsettings_changelist"))
    other = client.get(reverse("admin:sso_saml_samlsettings_change", args=[theirs.pk]))

    assert listing.status_code == 200
    page = listing.content.decode()
    assert reverse("admin:sso_saml_samlsettings_change", args=[mine.pk]) in page
    assert reverse("admin:sso_saml_samlsettings_change", args=[theirs.pk]) not in page
    assert other.status_code in {302, 403, 404}


def test_allowing_sha1_is_flagged_weak(admin_client_: Client, site: Site, idp_a: DevIdp) -> None:
    fields = {"metadata_xml": idp_a.metadata_xml(), "allow_sha1": "on"}
    response = admin_client_.post(ADD_URL, _form(site, **fields), follow=True)

    assert "SHA-1 signatures are accepted for this site: this is weak" in response.content.decode()
    listing = admin_client_.get(reverse("admin:sso_saml_samlsettings_changelist"))
    assert "weak: sha-1 allowed" in listing.content.decode().lower()


def test_unreachable_metadata_url_is_refused(
    admin_client_: Client, site: Site, settings: Any
) -> None:
    settings.SSO_SAML_METADATA_PRIVATE_HOSTS = True
    fields = {"source": "url", "metadata_url": "http://127.0.0.1:9/metadata"}
    response = admin_client_.post(ADD_URL, _form(site, **fields))

    errors = response.context["adminform"].form.errors
    assert "could not be fetched" in " ".join(errors["metadata_url"])


def test_clean_validates_without_side_effects(site: Site) -> None:
    """No fetch (the URL is unreachable) and no key pair in ``clean()``."""
    saml = SamlSettings(site=site, source="url", metadata_url="http://127.0.0.1:9/metadata")

    saml.full_clean()

    assert not saml.sp_private_key_encrypted
    assert not saml.idp_metadata_xml


def test_admin_offers_signing_and_encryption_switches_and_no_password_flag(
    admin_client_: Client, site: Site, idp_a: DevIdp
) -> None:
    page = admin_client_.get(ADD_URL).content.decode()
    assert 'name="authn_requests_signed"' in page
    assert 'name="assertions_encrypted"' in page
    assert "allow_password" not in page

    fields = {
        "metadata_xml": idp_a.metadata_xml(),
        "authn_requests_signed": "on",
        "assertions_encrypted": "on",
        "signing_cert_next": Path(idp_a.cert_file).read_text(),
    }
    response = admin_client_.post(ADD_URL, _form(site, **fields))

    assert response.status_code == 302
    saved = SamlSettings.objects.get(site=site)
    assert saved.authn_requests_signed
    assert saved.assertions_encrypted
    assert saved.sp_private_key_encrypted
