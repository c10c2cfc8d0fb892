"""IdP metadata refresh from a real local HTTP server, checked by real SAML sign-ins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lxml.etree
import pytest
import xmlsec

from devidp.idp import DevIdp
from devidp.saml_kit import idp_create, key_pair_write
from lifecycle.models import JobRun, MetadataRefresh
from lifecycle.services import metadata_refresh
from lifecycle.tasks import saml_metadata_refresh_all
from sso.saml.metadata import idp_metadata_build, idp_metadata_parse
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tests.lifecycle.kit import certificate_pem, saml_sign_in


class MetadataServer:
    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metadata"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, xml: str) -> None:
        self.body = xml.encode()


@pytest.fixture
def metadata_server() -> Iterator[MetadataServer]:
    server = MetadataServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def idps(tmp_path: Path) -> tuple[DevIdp, DevIdp]:
    """The IdP before and after its key rotation: same entity, new key."""
    old = idp_create(tmp_path, "idp-rot")
    key_file, cert_file = key_pair_write(tmp_path, "idp-rot-next")
    return old, DevIdp(old.entity_id, old.sso_url, old.slo_url, key_file, cert_file)


def _metadata(idp: DevIdp, *certs: DevIdp, valid_until: str = "") -> str:
    xml = idp_metadata_build(
        entity_id=idp.entity_id,
        sso_url=idp.sso_url,
        sso_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        slo_url=idp.slo_url,
        certificates=[Path(c.cert_file).read_text() for c in certs],
    )
    if valid_until:
        xml = xml.replace(
            "<md:EntityDescriptor ", f'<md:EntityDescriptor validUntil="{valid_until}" ', 1
        )
    return xml


@pytest.fixture
def url_site(
    site: Site, agent: Agent, idps: tuple[DevIdp, DevIdp], metadata_server, settings
) -> SamlSettings:
    settings.SSO_SAML_METADATA_PRIVATE_HOSTS = True  # the server is local
    old, _ = idps
    metadata_server.publish(_metadata(old, old))
    saml = SamlSettings(site=site, source=SamlSettings.Source.URL, metadata_url=metadata_server.url)
    saml_settings_save(saml)
    return saml


def _certs(saml: SamlSettings) -> int:
    saml.refresh_from_db()
    return len(idp_metadata_parse(saml.idp_metadata_xml).certificates)


def test_a_new_certificate_is_picked_up_and_the_old_one_works_until_removed(
    site: Site, url_site: SamlSettings, idps, metadata_server, celery_worker: None
) -> None:
    old, new = idps
    assert saml_sign_in(site, old, old).status_code == 302
    assert saml_sign_in(site, old, new).status_code == 403  # not published yet

    metadata_server.publish(_metadata(old, old, new))
    assert saml_metadata_refresh_all.delay().get(timeout=30) == 1
    assert _certs(url_site) == 2
    assert saml_sign_in(site, old, new).status_code == 302
    assert saml_sign_in(site, old, old).status_code == 302

    metadata_server.publish(_metadata(old, new))
    saml_metadata_refresh_all.delay().get(timeout=30)
    assert _certs(url_site) == 1
    refused = saml_sign_in(site, old, old)
    assert refused.status_code == 403
    assert RefusalReason.SAML_BAD_SIGNATURE.value in refused.content.decode()
    assert saml_sign_in(site, old, new).status_code == 302
    state = MetadataRefresh.objects.get(saml_settings=url_site)
    assert state.last_refreshed_at is not None
    assert state.last_error == ""
    assert JobRun.objects.get(name="saml-metadata-refresh").last_result == "1"


@pytest.mark.parametrize(
    ("serve", "error"),
    [
        ("broken", "not well-formed"),
        ("down", "could not be fetched"),
        ("500", "HTTP 500"),
        ("expired", "validUntil has passed"),
        ("other-entity", "another IdP entity ID"),
    ],
)
def test_a_broken_or_unreachable_metadata_url_changes_nothing_and_is_shown(
    site: Site, url_site: SamlSettings, idps, metadata_server, serve: str, error: str
) -> None:
    old, new = idps
    before = url_site.idp_metadata_xml
    if serve == "broken":
        metadata_server.publish("<md:EntityDescriptor")
    elif serve == "down":
        metadata_server.httpd.shutdown()
        metadata_server.httpd.server_close()
    elif serve == "500":
        metadata_server.status = 500
    elif serve == "expired":
        metadata_server.publish(_metadata(old, new, valid_until="2020-01-01T00:00:00Z"))
    else:
        other = DevIdp("https://other.example/md", old.sso_url, "", old.key_file, old.cert_file)
        metadata_server.publish(_metadata(other, old))

    state = metadata_refresh(saml_settings=url_site)

    assert error in state.last_error
    assert state.last_refreshed_at is None
    url_site.refresh_from_db()
    assert url_site.idp_metadata_xml == before
    assert saml_sign_in(site, old, old).status_code == 302
    assert LoginEvent.objects.filter(outcome="success").count() == 1


def _sign_metadata(xml: str, signer: DevIdp) -> str:
    root = lxml.etree.fromstring(xml.encode())
    root.set("ID", "md1")
    c = xmlsec.constants
    signature = xmlsec.template.create(root, c.TransformExclC14N, c.TransformRsaSha256)
    root.insert(0, signature)
    ref = xmlsec.template.add_reference(signature, c.TransformSha256, uri="#md1")
    xmlsec.template.add_transform(ref, c.TransformEnveloped)
    xmlsec.template.add_transform(ref, c.TransformExclC14N)
    context = xmlsec.SignatureContext()
    context.register_id(root, "ID")
    context.key = xmlsec.Key.from_file(signer.key_file, c.KeyDataFormatPem)
    context.sign(signature)
    return lxml.etree.tostring(root).decode()


def test_pinned_metadata_signingcertificate_pem(
    site: Site, url_site: SamlSettings, idps, metadata_server, tmp_path: Path
) -> None:
    old, new = idps
    signer = idp_create(tmp_path, "md-signer")
    MetadataRefresh.objects.create(
        site=site, saml_settings=url_site, metadata_signing_cert=Path(signer.cert_file).read_text()
    )

    metadata_server.publish(_metadata(old, old, new))  # unsigned
    assert "not signed" in metadata_refresh(saml_settings=url_site).last_error
    metadata_server.publish(_sign_metadata(_metadata(old, old, new), new))  # wrong signer
    assert "does not verify" in metadata_refresh(saml_settings=url_site).last_error
    assert _certs(url_site) == 1

    metadata_server.publish(_sign_metadata(_metadata(old, old, new), signer))
    state = metadata_refresh(saml_settings=url_site)
    assert state.last_error == ""
    assert _certs(url_site) == 2


def test_an_expired_certificate_is_dropped_while_another_remains(
    site: Site, url_site: SamlSettings, idps, metadata_server
) -> None:
    old, _ = idps
    expired = certificate_pem(days=-1)
    xml = _metadata(old, old).replace(
        "<md:KeyDescriptor",
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        + "".join(line for line in expired.splitlines() if "-----" not in line)
        + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor",
        1,
    )
    metadata_server.publish(xml)

    state = metadata_refresh(saml_settings=url_site)

    assert state.last_error == ""
    assert _certs(url_site) == 1
    assert len(state.certificates) == 1
    assert saml_sign_in(site, old, old).status_code == 302
