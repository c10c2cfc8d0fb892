"""Signed AuthnRequests (a per-site switch): a real pysaml2 IdP that
requires signed requests verifies ours and rejects an unsigned one; the key
is the site's own, even with many sites signing at once in threads.
"""

from __future__ import annotations

import base64
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client, RequestFactory
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.request import IncorrectlySigned

from devidp.idp import DevIdp
from sso.saml.config import sp_config_get
from sso.saml.models import SamlSettings
from sso.saml.starter import _authn_request
from tenants.models import Site
from tests.fixtures.saml import idp_server, saml_settings_create, sp_urls

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def _start(client: Client, site: Site) -> Any:
    return client.get(reverse("sso:agent-login", kwargs={"site_id": site.site_id}))


def _parse(server: Any, response: Any, binding: str) -> Any:
    """Hand the AuthnRequest in ``response`` to the IdP, as a browser would."""
    if binding == BINDING_HTTP_REDIRECT:
        query = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
        return server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
    found = re.search(r'name="SAMLRequest" value="([^"]+)"', response.content.decode())
    assert found is not None
    return server.parse_authn_request(found.group(1), BINDING_HTTP_POST)


@pytest.mark.parametrize("binding", [BINDING_HTTP_REDIRECT, BINDING_HTTP_POST])
def test_idp_requiring_signed_requests_accepts_ours(
    client: Client, site: Site, idp_a: DevIdp, binding: str
) -> None:
    saml_settings_create(site, idp_a, authn_requests_signed=True, sso_binding=binding)
    server = idp_server(client, site, idp_a, require_signed_requests=True)

    request = _parse(server, _start(client, site), binding)

    assert request.message.issuer.text == sp_urls(site)["metadata"]


@pytest.mark.parametrize("binding", [BINDING_HTTP_REDIRECT, BINDING_HTTP_POST])
def test_idp_requiring_signed_requests_rejects_unsigned_ones(
    client: Client, site: Site, idp_a: DevIdp, binding: str
) -> None:
    saml_settings_create(site, idp_a, sso_binding=binding)
    server = idp_server(client, site, idp_a, require_signed_requests=True)

    with pytest.raises(IncorrectlySigned):
        _parse(server, _start(client, site), binding)


def test_sp_metadata_says_authn_requests_signed(
    client: Client, site: Site, other_site: Site, idp_a: DevIdp, idp_b: DevIdp
) -> None:
    saml_settings_create(site, idp_a, authn_requests_signed=True)
    saml_settings_create(other_site, idp_b)

    on = client.get(sp_urls(site)["metadata"]).content.decode()
    off = client.get(sp_urls(other_site)["metadata"]).content.decode()

    assert 'AuthnRequestsSigned="true"' in on
    assert 'AuthnRequestsSigned="true"' not in off


def test_each_site_signs_with_its_own_key_from_many_threads(
    site: Site, other_site: Site, idp_a: DevIdp, idp_b: DevIdp
) -> None:
    """pysaml2 keeps one signer object per algorithm for the whole process
    and sets its key before each use; ours never share a key.
    """
    sites = []
    for s, idp in ((site, idp_a), (other_site, idp_b)):
        settings = saml_settings_create(s, idp, authn_requests_signed=True)
        conf = sp_config_get(RequestFactory().get("/"), settings=settings)
        cert = x509.load_pem_x509_certificate(settings.sp_certificate.encode())
        sites.append((settings, conf, cert.public_key()))
    barrier = threading.Barrier(8)

    def start(number: int) -> tuple[int, str]:
        settings, conf, _ = sites[number % 2]
        if number < 8:
            barrier.wait()
        _, response = _authn_request(conf, settings, relay_state="")
        return number % 2, response["Location"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(start, range(400)))

    for which, location in results:
        raw = dict(part.split("=", 1) for part in urlsplit(location).query.split("&"))
        signed = "&".join(f"{k}={raw[k]}" for k in ("SAMLRequest", "SigAlg")).encode()
        signature = base64.b64decode(unquote_plus(raw["Signature"]))
        public_key = sites[which][2]
        public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg, arg-type]


def test_signing_switch_is_per_site(client: Client, site: Site, idp_a: DevIdp) -> None:
    saml_settings_create(site, idp_a)
    assert "Signature=" not in _start(client, site)["Location"]
    SamlSettings.objects.filter(site=site).update(authn_requests_signed=True)
    assert "Signature=" in _start(client, site)["Location"]
