"""XML is parsed safely, and signatures are checked in-process."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
import saml2
import saml2.sigver
from defusedxml import EntitiesForbidden
from django.test import Client
from saml2.saml import Assertion

from devidp.idp import DevIdp
from sso.saml.crypto import xml_parse
from sso.saml.models import SamlSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent, Site
from tests.fixtures.saml import (
    ResponseFactory,
    acs_post,
    saml_settings_create,
    sp_urls_for,
)


@pytest.mark.parametrize(
    "document",
    [
        "<!DOCTYPE a><a/>",
        '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        '<!DOCTYPE a SYSTEM "http://127.0.0.1:9/evil.dtd"><a/>',
    ],
    ids=["bare-doctype", "internal-entity", "external-entity", "external-dtd"],
)
def test_our_parser_refuses_any_doctype(document: str) -> None:
    with pytest.raises(ValueError, match="document type"):
        xml_parse(document)


def test_pysaml2_parser_refuses_entities_too() -> None:
    # Defence in depth: even past our pre-check, pysaml2 parses with
    # defusedxml, which forbids entity declarations.
    xml = (
        '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&e;</saml:Assertion>'
    )
    with pytest.raises(EntitiesForbidden):
        saml2.create_class_from_xml_string(Assertion, xml)


def test_acs_spawns_no_process(
    client: Client,
    saml_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saml_response = saml_response_factory(saml_site)  # the test IdP signs with xmlsec1

    def no_spawn(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"process spawned: {args[:1]}")

    monkeypatch.setattr(saml2.sigver, "Popen", no_spawn)

    assert acs_post(client, saml_site, saml_response).status_code == 302


@pytest.mark.parametrize("audience", ["agent", "visitor"])
@pytest.mark.parametrize("endpoint", ["acs", "metadata"])
def test_an_oversize_body_is_refused_with_a_code(
    client: Client, site: Site, idp_a: DevIdp, audience: str, endpoint: str
) -> None:
    saml_settings_create(site, idp_a, audience=audience)
    url = sp_urls_for(site, audience)[endpoint]

    response = client.post(url, {"SAMLResponse": "A" * (3 * 1024 * 1024)})

    assert response.status_code == 400
    assert f'id="reason-code">{RefusalReason.SAML_TOO_LARGE}<' in response.content.decode()
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason) == (LoginEvent.Outcome.REFUSED, "saml_too_large")
    assert event.detail == {"check": "body_size"}


def test_metadata_of_an_unknown_site_is_a_refusal(client: Client, db: None) -> None:
    response = client.get("/sso/99999/agent/saml/metadata/")

    assert response.status_code == 403
    assert LoginEvent.objects.get().reason == RefusalReason.SITE_DISABLED


def test_metadata_with_a_key_nothing_decrypts_is_a_refusal(client: Client, saml_site: Site) -> None:
    SamlSettings.objects.filter(site=saml_site).update(sp_private_key_encrypted="garbage")

    response = client.get(sp_urls_for(saml_site, "agent")["metadata"])

    assert response.status_code == 403
    assert LoginEvent.objects.get().reason == RefusalReason.NOT_CONFIGURED


def test_metadata_is_served(client: Client, saml_site: Site) -> None:
    response = client.get(sp_urls_for(saml_site, "agent")["metadata"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert f'entityID="{sp_urls_for(saml_site, "agent")["metadata"]}"' in response.content.decode()


def test_too_many_fields_are_refused_with_a_code(client: Client, saml_site: Site) -> None:
    fields = {f"f{i}": "x" for i in range(1100)}

    response = client.post(sp_urls_for(saml_site, "agent")["acs"], fields)

    assert response.status_code == 400
    assert LoginEvent.objects.get().reason == RefusalReason.SAML_TOO_LARGE
