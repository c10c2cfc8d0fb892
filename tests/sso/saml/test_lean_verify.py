"""The ACS's own verification path (``sso.saml.verify``) refuses every
forgery pysaml2's ``parse_authn_request_response`` refused, with the same
reason code: each forged response is given to both, pysaml2 with this
site's SP configuration and the in-process crypto backend, and the ACS.

SAML core 5.4 (one enveloped Reference to the signed element), Somorovsky
et al. 2012 (XSW), SAML profiles 4.1.4.3 (the assertion must be signed).
"""

from __future__ import annotations

import base64

import lxml.etree
import pytest
from django.test import Client, RequestFactory
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client

from devidp.idp import DevIdp
from sso.saml.checks import refusal_for
from sso.saml.config import sp_config_get
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.saml import DSIG_NS, SAML_NS, ResponseFactory, acs_post, sign_in_start
from tests.security.test_saml_attacks import _wrap_in_advice, _wrap_same_id

R = RefusalReason


def _wrong_digest(xml: str) -> str:
    """The assertion unchanged, its signed digest replaced."""
    root = lxml.etree.fromstring(xml.encode())
    digest = root.find(
        f".//{{{SAML_NS}}}Assertion/{{{DSIG_NS}}}Signature//{{{DSIG_NS}}}DigestValue"
    )
    digest.text = base64.b64encode(b"\0" * 32).decode()
    return lxml.etree.tostring(root).decode()


def _signature_value_flipped(xml: str) -> str:
    root = lxml.etree.fromstring(xml.encode())
    value = root.find(
        f".//{{{SAML_NS}}}Assertion/{{{DSIG_NS}}}Signature/{{{DSIG_NS}}}SignatureValue"
    )
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0xFF
    value.text = base64.b64encode(bytes(raw)).decode()
    return lxml.etree.tostring(root).decode()


def _attribute_added(xml: str) -> str:
    """An attribute the IdP never signed, added to the signed assertion."""
    root = lxml.etree.fromstring(xml.encode())
    statement = root.find(f".//{{{SAML_NS}}}AttributeStatement")
    attribute = lxml.etree.SubElement(statement, f"{{{SAML_NS}}}Attribute", Name="role")
    lxml.etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = "admin"
    return lxml.etree.tostring(root).decode()


CASES: list[tuple[str, dict[str, object], RefusalReason]] = [
    ("wrapped_same_id", {"edit": _wrap_same_id}, R.SAML_BAD_SIGNATURE),
    ("wrapped_in_advice", {"edit": _wrap_in_advice}, R.SAML_SCHEMA_INVALID),
    ("unsigned_assertion", {"sign_assertion": False}, R.SAML_UNSIGNED),
    ("other_key", {"idp": DevIdp}, R.SAML_BAD_SIGNATURE),
    ("wrong_digest", {"edit": _wrong_digest}, R.SAML_BAD_SIGNATURE),
    ("signature_value_flipped", {"edit": _signature_value_flipped}, R.SAML_BAD_SIGNATURE),
    ("unsigned_attribute_added", {"edit": _attribute_added}, R.SAML_BAD_SIGNATURE),
]


def _pysaml2_reason(site: Site, encoded: str, outstanding: dict[str, str]) -> RefusalReason | None:
    """Return the reason code pysaml2's own parse gave ``encoded``, or None."""
    settings = SamlSettings.objects.get(site=site, audience=Audience.AGENT)
    settings.site = site
    conf = sp_config_get(RequestFactory().get("/"), settings=settings)
    try:
        authn = Saml2Client(conf).parse_authn_request_response(
            encoded, BINDING_HTTP_POST, outstanding
        )
    except Exception as exc:  # any refusal: mapped to its code
        return refusal_for(exc)
    return None if authn is not None and authn.assertion is not None else R.SAML_MALFORMED


@pytest.mark.parametrize(
    ("overrides", "expected"), [(o, r) for _, o, r in CASES], ids=[n for n, _, _ in CASES]
)
def test_acs_refuses_what_pysaml2_refused(
    overrides: dict[str, object],
    expected: RefusalReason,
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    rogue_idp: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    request_id = sign_in_start(client, saml_site, idp_a)
    kwargs = {k: (rogue_idp if v is DevIdp else v) for k, v in overrides.items()}
    encoded = saml_response_factory(saml_site, in_response_to=request_id, **kwargs)

    assert _pysaml2_reason(saml_site, encoded, {request_id: ""}) == expected
    LoginEvent.objects.all().delete()
    response = acs_post(client, saml_site, encoded)

    assert response.status_code == expected.status
    assert f'id="reason-code">{expected}<' in response.content.decode()
    assert session_key_for(Audience.AGENT) not in client.session
    assert LoginEvent.objects.get().reason == expected


def test_the_control_passes_both(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    request_id = sign_in_start(client, saml_site, idp_a)
    encoded = saml_response_factory(saml_site, in_response_to=request_id)

    assert _pysaml2_reason(saml_site, encoded, {request_id: ""}) is None
    assert acs_post(client, saml_site, encoded).status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_a_comment_cannot_cut_the_name_id_short(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    """A comment inside the signed NameID (invisible to exclusive c14n) does
    not turn "alice@a.example.evil" into alice (CVE-2017-11427 and kin).
    """
    Agent.objects.create(site=saml_site, email="alice@a.example.evil")
    encoded = saml_response_factory(
        saml_site,
        email="alice@a.example.evil",
        edit=lambda xml: xml.replace(">alice@a.example.evil<", ">alice@a.example<!---->.evil<"),
    )

    response = acs_post(client, saml_site, encoded)

    assert response.status_code == 302
    assert LoginEvent.objects.get().subject == "alice@a.example.evil"
