"""A real pysaml2 identity provider for each test site, and a factory of
its responses; keys and certificates are generated at test time.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.etree
import pytest
import xmlsec
from django.test import Client
from django.urls import reverse
from saml2 import BINDING_HTTP_REDIRECT

from devidp.idp import MFA_CONTEXT, DevIdp
from devidp.saml_kit import (
    acs_post,
    idp_create,
    key_pair_write,
    saml_settings_create,
    sign_in_start,
)
from sso.saml.config import sp_config_cache_clear
from tenants.models import Site

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
__all__ = ["acs_post", "saml_settings_create", "sign_in_start"]  # shared with other test folders
START = object()  # "start a sign-in in this browser and answer its request"


@pytest.fixture(scope="session")
def idp_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("idp-keys")


@pytest.fixture(scope="session")
def idp_a(idp_key_dir: Path) -> DevIdp:
    return idp_create(idp_key_dir, "idp-a")


@pytest.fixture(scope="session")
def idp_b(idp_key_dir: Path) -> DevIdp:
    return idp_create(idp_key_dir, "idp-b")


@pytest.fixture(scope="session")
def rogue_idp(idp_key_dir: Path, idp_a: DevIdp) -> DevIdp:
    """Claims idp-a's entity ID but signs with a key of its own."""
    key_file, cert_file = key_pair_write(idp_key_dir, "rogue")
    return DevIdp(idp_a.entity_id, idp_a.sso_url, idp_a.slo_url, key_file, cert_file)


@pytest.fixture(autouse=True)
def _fresh_sp_cache() -> None:
    sp_config_cache_clear()


@pytest.fixture
def saml_site(site: Site, idp_a: DevIdp) -> Site:
    saml_settings_create(site, idp_a)
    return site


@pytest.fixture
def saml_other_site(other_site: Site, idp_b: DevIdp) -> Site:
    saml_settings_create(other_site, idp_b)
    return other_site


def sp_urls(site: Site) -> dict[str, str]:
    kwargs = {"site_id": site.site_id}
    return {
        name: f"http://testserver{reverse(f'sso:agent-saml-{name}', kwargs=kwargs)}"
        for name in ("metadata", "acs", "sls")
    }


def resign(xml: str, idp: DevIdp, *, sha1: bool = False) -> str:
    """Sign the (possibly edited) first assertion of ``xml`` again with
    ``idp``'s key: what an IdP would issue with these contents.
    """
    root = lxml.etree.fromstring(xml.encode())
    assertion = root.find(f"{{{SAML_NS}}}Assertion")
    old = assertion.find(f"{{{DSIG_NS}}}Signature")
    if old is not None:
        assertion.remove(old)
    c = xmlsec.constants
    signature = xmlsec.template.create(
        assertion, c.TransformExclC14N, c.TransformRsaSha1 if sha1 else c.TransformRsaSha256
    )
    assertion.insert(1, signature)  # after Issuer, as the schema wants
    ref = xmlsec.template.add_reference(
        signature, c.TransformSha1 if sha1 else c.TransformSha256, uri=f"#{assertion.get('ID')}"
    )
    xmlsec.template.add_transform(ref, c.TransformEnveloped)
    xmlsec.template.add_transform(ref, c.TransformExclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    context = xmlsec.SignatureContext()
    context.register_id(assertion, "ID")
    context.key = xmlsec.Key.from_file(idp.key_file, c.KeyDataFormatPem)
    context.key.load_cert_from_file(idp.cert_file, c.KeyDataFormatPem)
    context.sign(signature)
    return lxml.etree.tostring(root).decode()


ResponseFactory = Callable[..., str]


@pytest.fixture
def saml_response_factory(client: Client, idp_a: DevIdp, idp_b: DevIdp) -> ResponseFactory:
    """Return ``make(site, **overrides)``: a base64 SAMLResponse for ``site``.

    Overrides: ``email``, ``in_response_to`` (default: start a sign-in in
    ``client`` and answer it; None for unsolicited), ``idp`` (default: the
    site's), ``sp_site`` (whose SP the assertion is for), ``acs_url``,
    ``authn_context``, ``attributes``, ``sign_assertion``, ``edit`` (a
    function applied to the XML after signing) and ``resign`` (sign again
    after ``edit``: True, or "sha1").
    """
    idps = {10001: idp_a, 10002: idp_b}

    def make(site: Site, **overrides: Any) -> str:
        idp: DevIdp = overrides.pop("idp", idps.get(site.site_id, idp_a))
        sp_site: Site = overrides.pop("sp_site", site)
        in_response_to = overrides.pop("in_response_to", START)
        if in_response_to is START:
            in_response_to = sign_in_start(client, site, idps.get(site.site_id, idp_a))
        urls = sp_urls(sp_site)
        sp_metadata = Client().get(urls["metadata"]).content.decode()
        server = idp.server([sp_metadata])
        edit = overrides.pop("edit", None)
        again = overrides.pop("resign", False)
        xml = idp.authn_response(
            server,
            sp_entity_id=urls["metadata"],
            acs_url=overrides.pop("acs_url", urls["acs"]),
            email=overrides.pop("email", "alice@a.example"),
            in_response_to=in_response_to,
            authn_context=overrides.pop("authn_context", MFA_CONTEXT),
            attributes=overrides.pop("attributes", None),
            sign_assertion=overrides.pop("sign_assertion", True),
        )
        assert not overrides, overrides
        if edit is not None:
            xml = edit(xml)
        if again:
            xml = resign(xml, idp, sha1=again == "sha1")
        return base64.b64encode(xml.encode()).decode()

    return make


# Single logout (tests/sso/saml/test_slo*.py).


def idp_server(client: Client, site: Site, idp: DevIdp, **kwargs: Any) -> Any:
    """Return ``idp``'s pysaml2 server, knowing ``site``'s agent SP metadata."""
    return idp.server([client.get(sp_urls(site)["metadata"]).content.decode()], **kwargs)


def saml_subject_session_index(client: Client, site: Site) -> str:
    """Return the SessionIndex the SP remembered for ``client``'s sign-in
    (in the session binding, for single logout).
    """
    from sso_site.signin.keys import session_key_for
    from tenants.models import Audience

    binding = client.session[session_key_for(Audience.AGENT)]
    assert binding["site"] == site.pk
    return str(binding["logout"]["session_index"])


def idp_logout_request(
    server: Any,
    site: Site,
    *,
    email: str,
    session_indexes: list[str] | None = None,
    sign_xml: bool = False,
    edit: Callable[[str], str] | None = None,
) -> str:
    """Return the XML of a LogoutRequest from ``server`` to ``site``'s agent SLS."""
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    urls = sp_urls(site)
    _, message = server.create_logout_request(
        urls["sls"],
        urls["metadata"],
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
        session_indexes=session_indexes,
        sign=sign_xml,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    xml = str(message)
    return edit(xml) if edit is not None else xml


def redirect_location(
    server: Any,
    xml: str,
    site: Site,
    *,
    sign: bool = True,
    response: bool = False,
    sigalg: str | None = None,
    relay_state: str = "",
) -> str:
    """Return the SLS URL carrying ``xml`` by the Redirect binding, signed
    (the query-string signature) by ``server``'s key when ``sign``.
    """
    from saml2.xmldsig import SIG_RSA_SHA256

    http = server.apply_binding(
        BINDING_HTTP_REDIRECT,
        xml,
        sp_urls(site)["sls"],
        relay_state,
        response=response,
        sign=sign,
        sigalg=sigalg or SIG_RSA_SHA256,
    )
    return str(dict(http["headers"])["Location"])


def sp_urls_for(site: Site, audience: str) -> dict[str, str]:
    """Like ``sp_urls``, for either audience's SP of ``site``."""
    kwargs = {"site_id": site.site_id}
    return {
        name: f"http://testserver{reverse(f'sso:{audience}-saml-{name}', kwargs=kwargs)}"
        for name in ("metadata", "acs", "sls")
    }


def visitor_sign_in_start(client: Client, site: Site, idp: DevIdp) -> tuple[str, str]:
    """Start a visitor's SP-initiated sign-in at ``site`` (a SAML campaign is
    created if the site has none); return the request's ID and RelayState.
    """
    from campaigns.models import Campaign

    campaign = Campaign.objects.filter(site=site, visitor_sso="saml").first()
    if campaign is None:
        campaign = Campaign.objects.create(site=site, name="SAML members", visitor_sso="saml")
    response = client.get(f"/sso/{site.site_id}/visitor/login/", {"campaign": campaign.pk})
    assert response.status_code == 302, response.content[:300]
    query = parse_qs(urlsplit(response["Location"]).query)
    request = idp.server([]).parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
    return str(request.message.id), query["RelayState"][0]
