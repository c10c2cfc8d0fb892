"""SP-initiated sign-in, metadata and the cached SP config (single logout:
``test_slo*.py``)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.etree
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from saml2 import BINDING_HTTP_REDIRECT

from devidp.idp import MFA_CONTEXT, DevIdp
from sso.saml.config import saml_settings_get, sp_config_get
from sso.saml.crypto import InProcessCryptoBackend
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.saml import (
    ResponseFactory,
    acs_post,
    saml_settings_create,
    sign_in_start,
    sp_urls,
)

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def test_metadata_entity_id_is_its_own_absolute_url(client: Client, saml_site: Site) -> None:
    urls = sp_urls(saml_site)
    response = client.get(urls["metadata"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    root = lxml.etree.fromstring(response.content)
    assert root.get("entityID") == urls["metadata"]
    acs = root.find(f".//{{{MD_NS}}}AssertionConsumerService")
    assert acs.get("Location") == urls["acs"]
    assert root.find(f".//{{{MD_NS}}}SPSSODescriptor").get("WantAssertionsSigned") == "true"
    settings = SamlSettings.objects.get(site=saml_site)
    cert_body = "".join(settings.sp_certificate.strip().splitlines()[1:-1])
    assert cert_body in response.content.decode()


def test_metadata_of_site_without_saml_is_refused(client: Client, site: Site) -> None:
    response = client.get(sp_urls(site)["metadata"])
    assert response.status_code == 403
    assert f'id="reason-code">{RefusalReason.NOT_CONFIGURED}<' in response.content.decode()


def test_login_start_redirects_to_idp_with_authn_request(
    client: Client, saml_site: Site, idp_a: DevIdp
) -> None:
    request_id = sign_in_start(client, saml_site, idp_a)

    # The outstanding request lives in the SAML session, keyed by site and
    # audience, not in the session that will hold the agent's binding.
    saml_session = SessionStore(client.cookies["saml_session"].value)
    key = f"sso_saml:{saml_site.pk}:agent"
    assert request_id in saml_session[key]["authn"]
    assert key not in client.session


def test_login_start_without_saml_settings_is_not_configured(client: Client, site: Site) -> None:
    response = client.get(reverse("sso:agent-login", kwargs={"site_id": site.site_id}))
    assert response.status_code == 403
    assert f'id="reason-code">{RefusalReason.NOT_CONFIGURED}<' in response.content.decode()


def test_disabled_settings_are_not_used(client: Client, saml_site: Site) -> None:
    SamlSettings.objects.filter(site=saml_site).update(enabled=False)
    response = client.get(reverse("sso:agent-login", kwargs={"site_id": saml_site.site_id}))
    assert f'id="reason-code">{RefusalReason.NOT_CONFIGURED}<' in response.content.decode()


def test_next_travels_as_relay_state_and_is_followed(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    url = reverse("sso:agent-login", kwargs={"site_id": saml_site.site_id})
    response = client.get(f"{url}?next=/console/10001/")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["RelayState"] == ["/console/10001/"]
    request = idp_a.server([]).parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)

    saml_response = saml_response_factory(saml_site, in_response_to=request.message.id)
    response = acs_post(client, saml_site, saml_response, relay_state="/console/10001/")

    assert response.status_code == 302
    assert response["Location"] == "/console/10001/"


def test_response_is_accepted_once_per_request(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    saml_response = saml_response_factory(saml_site)
    assert acs_post(client, saml_site, saml_response).status_code == 302
    client.post(reverse("agent-logout"))

    again = acs_post(client, saml_site, saml_response)

    # The request it answered was used up by the first sign-in.
    assert f'id="reason-code">{RefusalReason.SAML_IN_RESPONSE_TO}<' in again.content.decode()


def test_idp_initiated_sign_in_where_allowed(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    SamlSettings.objects.filter(site=saml_site).update(allow_idp_initiated=True)
    response = acs_post(client, saml_site, saml_response_factory(saml_site, in_response_to=None))
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_email_from_configured_attribute(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    SamlSettings.objects.filter(site=saml_site).update(email_attribute="mail")
    saml_response = saml_response_factory(
        saml_site, email="opaque-id@a.example", attributes={"mail": [agent.email]}
    )
    assert acs_post(client, saml_site, saml_response).status_code == 302
    assert client.session[session_key_for(Audience.AGENT)]["principal"] == agent.pk


def test_sp_config_is_built_once_per_settings_version(saml_site: Site) -> None:
    request = RequestFactory().get("/")
    settings = saml_settings_get(site=saml_site, audience=Audience.AGENT)
    assert settings is not None
    first = sp_config_get(request, settings=settings)

    assert sp_config_get(request, settings=settings) is first
    assert isinstance(first.sso_security_context.crypto, InProcessCryptoBackend)
    settings.email_attribute = "mail"
    settings.save()
    assert sp_config_get(request, settings=settings) is not first


def test_sp_config_follows_a_queryset_update_that_leaves_updated_at_alone(
    saml_site: Site,
) -> None:
    request = RequestFactory().get("/")
    settings = saml_settings_get(site=saml_site, audience=Audience.AGENT)
    assert settings is not None
    first = sp_config_get(request, settings=settings)
    assert not first.getattr("allow_unsolicited", "sp")

    SamlSettings.objects.filter(pk=settings.pk).update(allow_idp_initiated=True)
    updated = saml_settings_get(site=saml_site, audience=Audience.AGENT)
    assert updated is not None
    assert updated.updated_at == settings.updated_at  # what the old cache key read

    conf = sp_config_get(request, settings=updated)
    assert conf is not first
    assert conf.getattr("allow_unsolicited", "sp")


def test_unsolicited_sign_in_follows_a_queryset_update(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    refused = acs_post(client, saml_site, saml_response_factory(saml_site, in_response_to=None))
    assert b'id="reason-code">saml_unsolicited<' in refused.content
    SamlSettings.objects.filter(site=saml_site).update(allow_idp_initiated=True)

    response = acs_post(client, saml_site, saml_response_factory(saml_site, in_response_to=None))
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def _signed_in(client: Client, site: Site, factory: ResponseFactory) -> None:
    assert acs_post(client, site, factory(site)).status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


@pytest.mark.parametrize("audience", [Audience.AGENT, Audience.VISITOR])
def test_settings_are_per_audience(saml_site: Site, audience: Audience) -> None:
    found = saml_settings_get(site=saml_site, audience=audience)
    assert (found is not None) == (audience == Audience.AGENT)


def test_mfa_sites_ask_the_idp_for_the_accepted_contexts(
    client: Client, site: Site, idp_a: DevIdp
) -> None:
    saml_settings_create(site, idp_a, mfa_required=True, mfa_context_refs=MFA_CONTEXT)
    response = client.get(reverse("sso:agent-login", kwargs={"site_id": site.site_id}))
    query = parse_qs(urlsplit(response["Location"]).query)

    request = idp_a.server([]).parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)

    requested = request.message.requested_authn_context
    assert [ref.text for ref in requested.authn_context_class_ref] == [MFA_CONTEXT]
    assert requested.comparison == "exact"


def _manual_settings(site: Site, idp: DevIdp, *certs: DevIdp, slo: bool = True) -> None:
    settings = SamlSettings(
        site=site,
        source=SamlSettings.Source.MANUAL,
        idp_entity_id=idp.entity_id,
        sso_url=idp.sso_url,
        slo_url=idp.slo_url if slo else "",
        signing_cert=Path(certs[0].cert_file).read_text(),
        signing_cert_next=Path(certs[1].cert_file).read_text() if len(certs) > 1 else "",
    )
    saml_settings_save(settings)


@pytest.mark.parametrize("position", ["first", "second"])
def test_either_of_two_certificates_verifies_during_rotation(
    client: Client,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    rogue_idp: DevIdp,
    saml_response_factory: ResponseFactory,
    position: str,
) -> None:
    # rogue_idp has idp_a's entity ID and a key of its own: the "new" key.
    certs = (idp_a, rogue_idp) if position == "first" else (rogue_idp, idp_a)
    _manual_settings(site, idp_a, *certs)

    assert acs_post(client, site, saml_response_factory(site)).status_code == 302
    client.post(reverse("agent-logout"))
    rotated = saml_response_factory(site, idp=rogue_idp)
    assert acs_post(client, site, rotated).status_code == 302


@pytest.mark.parametrize("source", [SamlSettings.Source.XML, SamlSettings.Source.URL])
def test_second_certificate_works_with_metadata_too(
    client: Client,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    rogue_idp: DevIdp,
    saml_response_factory: ResponseFactory,
    settings: Any,
    source: str,
) -> None:
    """The IdP's metadata names the current key; the second certificate
    field adds the next one, whichever way the metadata came in.
    """
    settings.SSO_SAML_METADATA_PRIVATE_HOSTS = True
    saml = SamlSettings(
        site=site, source=source, signing_cert_next=Path(rogue_idp.cert_file).read_text()
    )
    if source == SamlSettings.Source.XML:
        saml.metadata_xml = idp_a.metadata_xml()
    else:
        saml.metadata_url = _serve_once(idp_a.metadata_xml())
    saml_settings_save(saml)

    assert acs_post(client, site, saml_response_factory(site)).status_code == 302
    client.post(reverse("agent-logout"))
    rotated = saml_response_factory(site, idp=rogue_idp)
    assert acs_post(client, site, rotated).status_code == 302
    assert saml.metadata_xml.count("X509Certificate>") == 2  # as entered: one
    assert saml.idp_metadata_xml.count("X509Certificate>") == 4  # in use: two


def test_a_bad_second_certificate_is_refused_with_pasted_metadata(
    site: Site, idp_a: DevIdp
) -> None:
    saml = SamlSettings(
        site=site,
        source=SamlSettings.Source.XML,
        metadata_xml=idp_a.metadata_xml(),
        signing_cert_next="not a certificate",
    )
    with pytest.raises(ValidationError) as raised:
        saml_settings_save(saml)
    assert "second certificate is not a valid PEM" in str(raised.value.message_dict)


def _serve_once(body: str) -> str:
    """Serve ``body`` at a local URL for one GET."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/metadata"


def test_logout_without_idp_slo_is_local(
    client: Client,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    _manual_settings(site, idp_a, idp_a, slo=False)
    assert acs_post(client, site, saml_response_factory(site)).status_code == 302

    response = client.post(reverse("agent-logout"))

    assert response["Location"] == reverse("agent-login")
    assert session_key_for(Audience.AGENT) not in client.session


@pytest.mark.parametrize(
    "query",
    [
        "next=/console/" + "x" * 5000,
        "next=/console/%00",
        "next=%ED%A0%80",  # not UTF-8 (a lone surrogate)
        "next=https://evil.example/",
        "return_to=//evil.example&next=/console/",
    ],
)
def test_login_start_refuses_bad_input_without_a_500(
    client: Client, saml_site: Site, query: str
) -> None:
    url = reverse("sso:agent-login", kwargs={"site_id": saml_site.site_id})

    response = client.get(f"{url}?{query}")

    assert response.status_code in {302, 400, 403}
    if response.status_code != 302:
        event = LoginEvent.objects.get()
        assert event.reason in {RefusalReason.BAD_REQUEST, RefusalReason.UNSAFE_REDIRECT}
