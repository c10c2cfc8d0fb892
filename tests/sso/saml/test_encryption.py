"""Encrypted assertions (a per-site switch): the SP publishes an encryption
certificate; an assertion encrypted to it (AES-GCM or AES-CBC, RSA-OAEP)
signs in; a tampered or re-encrypted forgery, or weak algorithms, are refused.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import xmlsec
from django.test import Client

from devidp.idp import DevIdp, assertion_encrypt
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.saml import ResponseFactory, acs_post, saml_settings_create, sp_urls

C = xmlsec.constants


@pytest.fixture
def encrypted_site(site: Site, idp_a: DevIdp) -> Site:
    saml_settings_create(site, idp_a, assertions_encrypted=True)
    return site


def _sp_cert(site: Site) -> str:
    return SamlSettings.objects.get(site=site).sp_certificate


def test_sp_metadata_offers_an_encryption_certificate_only_when_switched_on(
    client: Client, site: Site, other_site: Site, idp_a: DevIdp, idp_b: DevIdp
) -> None:
    saml_settings_create(site, idp_a, assertions_encrypted=True)
    saml_settings_create(other_site, idp_b)

    on = client.get(sp_urls(site)["metadata"]).content.decode()
    off = client.get(sp_urls(other_site)["metadata"]).content.decode()

    assert 'use="encryption"' in on
    assert 'use="encryption"' not in off


@pytest.mark.parametrize(
    "data_algorithm", [C.TransformAes256Gcm, C.TransformAes128Gcm, C.TransformAes256Cbc]
)
def test_encrypted_assertion_signs_in(
    client: Client,
    encrypted_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    data_algorithm: object,
) -> None:
    cert = _sp_cert(encrypted_site)
    response = saml_response_factory(
        encrypted_site,
        edit=lambda xml: assertion_encrypt(xml, sp_certificate=cert, data_algorithm=data_algorithm),
    )
    assert "EncryptedAssertion" in base64.b64decode(response).decode()

    result = acs_post(client, encrypted_site, response)

    assert result.status_code == 302, result.content[:400]
    assert session_key_for(Audience.AGENT) in client.session


def _flip_cipher(xml: str) -> str:
    """Change one base64 character of the EncryptedData's CipherValue."""
    match = list(re.finditer(r"<xenc:CipherValue>([^<]+)</xenc:CipherValue>", xml))[-1]
    value = match.group(1)
    flipped = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    return xml[: match.start(1)] + flipped + xml[match.end(1) :]


def _forged(xml: str) -> str:
    """Another agent's email inside the signed assertion (signature now broken)."""
    return xml.replace("alice@a.example", "boss@a.example")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("tampered ciphertext", RefusalReason.SAML_MALFORMED),
        ("forged assertion, re-encrypted to the SP's public certificate", None),
        ("RSA PKCS#1 v1.5 key transport", RefusalReason.SAML_MALFORMED),
    ],
)
def test_tampered_or_weak_encryption_is_refused(
    client: Client,
    encrypted_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    name: str,
    reason: RefusalReason | None,
) -> None:
    cert = _sp_cert(encrypted_site)

    def edit(xml: str) -> str:
        if name.startswith("tampered"):
            return _flip_cipher(assertion_encrypt(xml, sp_certificate=cert))
        if name.startswith("forged"):
            return assertion_encrypt(_forged(xml), sp_certificate=cert)
        return assertion_encrypt(xml, sp_certificate=cert, key_algorithm=C.TransformRsaPkcs1)

    result = acs_post(client, encrypted_site, saml_response_factory(encrypted_site, edit=edit))

    assert result.status_code in {400, 403}
    assert session_key_for(Audience.AGENT) not in client.session
    event = LoginEvent.objects.get()
    assert event.outcome == LoginEvent.Outcome.REFUSED
    if reason is not None:
        assert event.reason == reason.value
    else:  # the assertion's signature no longer verifies
        assert event.reason in {
            RefusalReason.SAML_BAD_SIGNATURE.value,
            RefusalReason.SAML_MALFORMED.value,
        }


def test_encrypted_assertion_to_another_key_is_refused_without_the_switch_too(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_b: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    """Anyone may send an EncryptedAssertion to any site: no 500."""
    other_cert = Path(idp_b.cert_file).read_text()
    response = saml_response_factory(
        saml_site, edit=lambda xml: assertion_encrypt(xml, sp_certificate=other_cert)
    )

    result = acs_post(client, saml_site, response)

    assert result.status_code in {400, 403}
    assert session_key_for(Audience.AGENT) not in client.session
    assert LoginEvent.objects.get().outcome == LoginEvent.Outcome.REFUSED
