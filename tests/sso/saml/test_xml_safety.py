"""XML is parsed safely, and signatures are checked in-process."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
import saml2
import saml2.sigver
from defusedxml import EntitiesForbidden
from django.test import Client
from saml2.saml import Assertion

from sso.saml.crypto import xml_parse
from tenants.models import Agent, Site
from tests.sso.saml.conftest import ResponseFactory, acs_post


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
