"""Forged and misused SAML responses, each refused with its own reason code,
without a session binding.

Every response starts as a real one from a pysaml2 IdP; forgeries edit its
signed XML (or have an IdP sign edited contents, where the attack is about
contents an IdP might really issue).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import lxml.etree
import pytest
from django.test import Client
from saml2.samlp import STATUS_AUTHN_FAILED
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from devidp.idp import MFA_CONTEXT, PASSWORD_CONTEXT, DevIdp
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.sso.saml.conftest import (
    SAML_NS,
    ResponseFactory,
    acs_post,
    sign_in_start,
    sp_urls,
)

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"


@dataclass
class Attack:
    client: Client
    site: Site
    other_site: Site
    agent: Agent
    make: ResponseFactory
    idp_a: DevIdp
    idp_b: DevIdp
    rogue_idp: DevIdp
    relay_state: str = ""


def _times(xml: str, *, not_before: datetime, not_on_or_after: datetime) -> str:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    xml = re.sub(r'NotBefore="[^"]+"', f'NotBefore="{not_before.strftime(stamp)}"', xml)
    return re.sub(r'NotOnOrAfter="[^"]+"', f'NotOnOrAfter="{not_on_or_after.strftime(stamp)}"', xml)


def _expired(xml: str) -> str:
    now = datetime.now(UTC)
    return _times(
        xml, not_before=now - timedelta(hours=2), not_on_or_after=now - timedelta(hours=1)
    )


def _not_yet_valid(xml: str) -> str:
    now = datetime.now(UTC)
    return _times(
        xml, not_before=now + timedelta(hours=1), not_on_or_after=now + timedelta(hours=2)
    )


def _name_id_altered(xml: str) -> str:
    return xml.replace(">alice@a.example<", ">mallory@a.example<")


def _wrap_same_id(xml: str) -> str:
    """XSW: the signed assertion is hidden in the Response's Extensions; an
    evil copy with the same ID (and the original's signature) takes its place.
    """
    root = lxml.etree.fromstring(xml.encode())
    signed = root.find(f"{{{SAML_NS}}}Assertion")
    evil = lxml.etree.fromstring(lxml.etree.tostring(signed))
    evil.find(f".//{{{SAML_NS}}}NameID").text = "mallory@a.example"
    extensions = lxml.etree.Element(f"{{{SAMLP_NS}}}Extensions")
    root.remove(signed)
    extensions.append(signed)
    root.insert(1, extensions)  # after Issuer
    root.append(evil)
    return lxml.etree.tostring(root).decode()


def _wrap_in_advice(xml: str) -> str:
    """XSW: an evil assertion (own ID) carries the original's signature and
    the signed original inside its Advice.
    """
    root = lxml.etree.fromstring(xml.encode())
    signed = root.find(f"{{{SAML_NS}}}Assertion")
    evil = lxml.etree.fromstring(lxml.etree.tostring(signed))
    evil.set("ID", "_evil" + signed.get("ID"))
    evil.find(f".//{{{SAML_NS}}}NameID").text = "mallory@a.example"
    advice = lxml.etree.SubElement(evil, f"{{{SAML_NS}}}Advice")
    conditions = evil.find(f"{{{SAML_NS}}}Conditions")
    conditions.addnext(advice)
    root.remove(signed)
    advice.append(signed)
    root.append(evil)
    return lxml.etree.tostring(root).decode()


def _with_dtd(xml: str) -> str:
    body = xml.split("?>", 1)[-1] if xml.startswith("<?xml") else xml
    body = body.replace(">alice@a.example<", ">&xxe;<", 1)
    return f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{body}'


def _plain_doctype(xml: str) -> str:
    body = xml.split("?>", 1)[-1] if xml.startswith("<?xml") else xml
    return f"<!DOCTYPE Response>{body}"


def _billion_laughs(xml: str) -> str:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE r [{entities}]>{xml.replace('>alice@a.example<', '>&l9;<', 1)}"


def unsigned(a: Attack) -> str:
    return a.make(a.site, sign_assertion=False)


def other_key_same_issuer(a: Attack) -> str:
    return a.make(a.site, idp=a.rogue_idp)


def other_sites_idp_key_as_site_a(a: Attack) -> str:
    thief = DevIdp(
        a.idp_a.entity_id, a.idp_a.sso_url, a.idp_a.slo_url, a.idp_b.key_file, a.idp_b.cert_file
    )
    return a.make(a.site, idp=thief)


def other_sites_idp(a: Attack) -> str:
    return a.make(a.site, idp=a.idp_b)


def wrapped_same_id(a: Attack) -> str:
    return a.make(a.site, edit=_wrap_same_id)


def wrapped_in_advice(a: Attack) -> str:
    return a.make(a.site, edit=_wrap_in_advice)


def name_id_altered(a: Attack) -> str:
    return a.make(a.site, edit=_name_id_altered)


def expired(a: Attack) -> str:
    return a.make(a.site, edit=_expired, resign=True)


def not_yet_valid(a: Attack) -> str:
    return a.make(a.site, edit=_not_yet_valid, resign=True)


def for_site_b_sp(a: Attack) -> str:
    """Site B's assertion (audience B's SP), posted to A's ACS address."""
    return a.make(a.site, sp_site=a.other_site, acs_url=sp_urls(a.site)["acs"])


def for_site_b_acs(a: Attack) -> str:
    """The whole response meant for site B (audience and recipient B)."""
    return a.make(a.site, sp_site=a.other_site)


def wrong_recipient(a: Attack) -> str:
    return a.make(a.site, acs_url="http://testserver/sso/10001/agent/saml/elsewhere/")


def replayed(a: Attack) -> str:
    SamlSettings.objects.filter(site=a.site).update(allow_idp_initiated=True)
    response = a.make(a.site, in_response_to=None)
    first = acs_post(a.client, a.site, response)
    assert first.status_code == 302
    a.client.post("/agent/logout/")
    return response


def replayed_in_other_browser(a: Attack) -> str:
    """Consumed by the browser that asked for it, then replayed elsewhere."""
    SamlSettings.objects.filter(site=a.site).update(allow_idp_initiated=True)
    response = a.make(a.site, in_response_to=None)
    assert acs_post(Client(), a.site, response).status_code == 302
    return response


def other_browsers_request(a: Attack) -> str:
    request_id = sign_in_start(Client(), a.site, a.idp_a)
    return a.make(a.site, in_response_to=request_id)


def other_browsers_request_idp_initiated_allowed(a: Attack) -> str:
    SamlSettings.objects.filter(site=a.site).update(allow_idp_initiated=True)
    return other_browsers_request(a)


def idp_error_status(a: Attack) -> str:
    """The IdP answers the request with an error status (nobody signed in)."""
    request_id = sign_in_start(a.client, a.site, a.idp_a)
    urls = sp_urls(a.site)
    server = a.idp_a.server([Client().get(urls["metadata"]).content.decode()])
    error = server.create_error_response(
        request_id,
        urls["acs"],
        (STATUS_AUTHN_FAILED, "wrong password"),
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return base64.b64encode(str(error).encode()).decode()


def unsolicited(a: Attack) -> str:
    return a.make(a.site, in_response_to=None)


def unknown_agent(a: Attack) -> str:
    return a.make(a.site, email="nobody@a.example")


def inactive_agent(a: Attack) -> str:
    response = a.make(a.site)
    Agent.objects.filter(pk=a.agent.pk).update(is_active=False)
    return response


def disabled_site(a: Attack) -> str:
    response = a.make(a.site)
    Site.objects.filter(pk=a.site.pk).update(is_active=False)
    return response


def with_dtd_entity(a: Attack) -> str:
    return a.make(a.site, edit=_with_dtd)


def with_plain_doctype(a: Attack) -> str:
    return a.make(a.site, edit=_plain_doctype)


def with_billion_laughs(a: Attack) -> str:
    return a.make(a.site, edit=_billion_laughs)


def not_base64_xml(a: Attack) -> str:
    return base64.b64encode(b"<not-closed").decode()


def relay_state_other_origin(a: Attack) -> str:
    a.relay_state = "https://evil.example/steal"
    return a.make(a.site)


def sha1_signature(a: Attack) -> str:
    return a.make(a.site, resign="sha1")


def no_mfa_context(a: Attack) -> str:
    SamlSettings.objects.filter(site=a.site).update(mfa_required=True, mfa_context_refs=MFA_CONTEXT)
    return a.make(a.site, authn_context=PASSWORD_CONTEXT)


def no_email(a: Attack) -> str:
    SamlSettings.objects.filter(site=a.site).update(email_attribute="mail")
    return a.make(a.site, attributes={"cn": ["Alice"]})


R = RefusalReason
ATTACKS: list[tuple[Callable[[Attack], str], RefusalReason]] = [
    (unsigned, R.SAML_UNSIGNED),
    (other_key_same_issuer, R.SAML_BAD_SIGNATURE),
    (other_sites_idp_key_as_site_a, R.SAML_BAD_SIGNATURE),
    (other_sites_idp, R.SAML_WRONG_ISSUER),
    (wrapped_same_id, R.SAML_BAD_SIGNATURE),
    # The copied Signature repeats its xs:ID: pysaml2's schema check refuses it.
    (wrapped_in_advice, R.SAML_SCHEMA_INVALID),
    (name_id_altered, R.SAML_BAD_SIGNATURE),
    (expired, R.SAML_EXPIRED),
    (not_yet_valid, R.SAML_NOT_YET_VALID),
    (for_site_b_sp, R.SAML_WRONG_AUDIENCE),
    (for_site_b_acs, R.SAML_WRONG_RECIPIENT),
    (wrong_recipient, R.SAML_WRONG_RECIPIENT),
    (replayed, R.REPLAY),
    (replayed_in_other_browser, R.REPLAY),
    (other_browsers_request, R.SAML_IN_RESPONSE_TO),
    (other_browsers_request_idp_initiated_allowed, R.SAML_IN_RESPONSE_TO),
    (unsolicited, R.SAML_UNSOLICITED),
    (idp_error_status, R.SAML_IDP_ERROR),
    (unknown_agent, R.UNKNOWN_AGENT),
    (inactive_agent, R.AGENT_INACTIVE),
    (disabled_site, R.SITE_DISABLED),
    (with_dtd_entity, R.SAML_MALFORMED),
    (with_plain_doctype, R.SAML_MALFORMED),
    (with_billion_laughs, R.SAML_MALFORMED),
    (not_base64_xml, R.SAML_MALFORMED),
    (relay_state_other_origin, R.UNSAFE_REDIRECT),
    (sha1_signature, R.SAML_WEAK_ALGORITHM),
    (no_mfa_context, R.MFA_REQUIRED),
    (no_email, R.SAML_NO_EMAIL),
]


@pytest.mark.parametrize(
    ("forgery", "expected_reason"), ATTACKS, ids=[f.__name__ for f, _ in ATTACKS]
)
def test_acs_refuses_forgery(
    forgery: Callable[[Attack], str],
    expected_reason: RefusalReason,
    client: Client,
    saml_site: Site,
    saml_other_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    idp_a: DevIdp,
    idp_b: DevIdp,
    rogue_idp: DevIdp,
) -> None:
    attack = Attack(
        client, saml_site, saml_other_site, agent, saml_response_factory, idp_a, idp_b, rogue_idp
    )
    saml_response = forgery(attack)
    LoginEvent.objects.all().delete()

    response = acs_post(client, saml_site, saml_response, relay_state=attack.relay_state)

    assert response.status_code == expected_reason.status
    assert f'id="reason-code">{expected_reason}<' in response.content.decode()
    assert session_key_for(Audience.AGENT) not in client.session
    assert client.get("/console/").status_code == 302
    event = LoginEvent.objects.get()
    assert event.outcome == LoginEvent.Outcome.REFUSED
    assert event.reason == expected_reason
    assert (event.site, event.protocol) == (saml_site, "saml")
    assert "alice@a.example" not in str(event.detail)


def test_sha1_signature_accepted_where_site_allows_it(
    client: Client,
    saml_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
) -> None:
    SamlSettings.objects.filter(site=saml_site).update(allow_sha1=True)
    response = acs_post(client, saml_site, saml_response_factory(saml_site, resign="sha1"))
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session
