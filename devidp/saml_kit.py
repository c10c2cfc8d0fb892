"""Build SAML artefacts with a throw-away IdP: for the tests and the benchmarks.

A key pair made at call time (nothing committed), the IdP that signs with it,
the site's SAML settings trusting it, and the browser steps of an SP-initiated
sign-in (start it, post the answer to the ACS).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.urls import reverse
from saml2 import BINDING_HTTP_REDIRECT

from devidp.idp import DevIdp
from sso.saml.metadata import sp_key_pair_generate
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from tenants.models import Site


def key_pair_write(directory: Path, name: str) -> tuple[str, str]:
    """Write a new key and self-signed certificate into ``directory``; return their paths."""
    key_pem, cert_pem = sp_key_pair_generate(common_name=name)
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_text(key_pem)
    cert_file.write_text(cert_pem)
    return str(key_file), str(cert_file)


def idp_create(directory: Path, name: str) -> DevIdp:
    """Return an IdP at ``https://<name>.example`` with a new key pair."""
    key_file, cert_file = key_pair_write(directory, name)
    base = f"https://{name}.example"
    return DevIdp(
        entity_id=f"{base}/metadata",
        sso_url=f"{base}/sso",
        slo_url=f"{base}/slo",
        key_file=key_file,
        cert_file=cert_file,
    )


def saml_settings_create(site: Site, idp: DevIdp, **fields: Any) -> SamlSettings:
    """Save ``site``'s agent SAML settings trusting ``idp``."""
    settings = SamlSettings(site=site, source=SamlSettings.Source.XML, **fields)
    settings.metadata_xml = idp.metadata_xml()
    return saml_settings_save(settings)


def sign_in_start(client: Client, site: Site, idp: DevIdp, query: str = "") -> str:
    """Start an SP-initiated sign-in in ``client``; return the request's ID."""
    url = reverse("sso:agent-login", kwargs={"site_id": site.site_id}) + query
    response = client.get(url)
    location = response.get("Location", "")
    if response.status_code != 302 or not location.startswith(idp.sso_url):
        raise RuntimeError(f"sign-in did not start: {response.status_code}")
    saml_request = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    request = idp.server([]).parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
    return str(request.message.id)


def acs_post(client: Client, site: Site, saml_response: str, relay_state: str = "") -> Any:
    """Post ``saml_response`` (base64) to ``site``'s agent ACS as the browser would."""
    url = reverse("sso:agent-saml-acs", kwargs={"site_id": site.site_id})
    data = {"SAMLResponse": saml_response}
    if relay_state:
        data["RelayState"] = relay_state
    return client.post(url, data)
