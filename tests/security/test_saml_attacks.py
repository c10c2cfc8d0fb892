"""Forged and misused SAML responses, each refused with its own reason code,
without a session binding.

Every response starts as a real one from a pysaml2 IdP; forgeries edit its
signed XML (or have an IdP sign edited contents, where the attack is about
contents an IdP might really issue).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.etree
import pytest
from django.test import Client
from saml2.saml import NameID
from saml2.samlp import STATUS_AUTHN_FAILED
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from campaigns.models import Visitor
from devidp.idp import MFA_CONTEXT, PASSWORD_CONTEXT, DevIdp
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site, UsedToken
from tests.fixtures.saml import (
    SAML_NS,
    ResponseFactory,
    acs_post,
    resign,
    saml_settings_create,
    sign_in_start,
    sp_urls,
    sp_urls_for,
    visitor_sign_in_start,
)
from tests.security import saml_edits as edits
from tests.security.saml_edits import Edit

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


# ---------------------------------------------------------------------------
# The strict Web Browser SSO profile (issue 9): each rule a service provider
# must enforce, broken by a real IdP response (signed again with the IdP's
# key where the rule is about the assertion's contents), at the agent and
# at the visitor ACS.


@dataclass
class Sp:
    """One site's SP for one audience, seen from a browser (``client``)."""

    client: Client
    site: Site
    audience: str
    idp: DevIdp
    relay_state: str = ""

    def start(self) -> str:
        if self.audience == "agent":
            return sign_in_start(self.client, self.site, self.idp)
        request_id, self.relay_state = visitor_sign_in_start(self.client, self.site, self.idp)
        return request_id

    def xml(self, *, sign: bool = True, email: str = "alice@a.example", **kw: Any) -> str:
        urls = sp_urls_for(self.site, self.audience)
        in_response_to = kw.pop("in_response_to", None) or self.start()
        server = self.idp.server([Client().get(urls["metadata"]).content.decode()])
        return self.idp.authn_response(
            server,
            sp_entity_id=urls["metadata"],
            acs_url=urls["acs"],
            email=email,
            in_response_to=in_response_to,
            sign_assertion=sign,
            **kw,
        )

    def response(self, edit: Edit | None = None, *, again: bool = False, **kw: Any) -> str:
        xml = self.xml(**kw)
        if edit is not None:
            xml = edit(xml)
        if again:
            xml = resign(xml, self.idp)
        return base64.b64encode(xml.encode()).decode()

    def post(self, saml_response: str) -> Any:
        data = {"SAMLResponse": saml_response}
        if self.relay_state:
            data["RelayState"] = self.relay_state
        return self.client.post(sp_urls_for(self.site, self.audience)["acs"], data)


def _signed(edit: Edit) -> Callable[[Sp], str]:
    def make(sp: Sp) -> str:
        return sp.response(edit, again=True)

    make.__name__ = getattr(edit, "__name__", "edit")
    return make


def _unsigned_envelope(edit: Edit) -> Callable[[Sp], str]:
    """An edit of the (unsigned) Response around the signed assertion."""

    def make(sp: Sp) -> str:
        return sp.response(edit)

    return make


def _logout_request_as_response(sp: Sp) -> str:
    urls = sp_urls_for(sp.site, sp.audience)
    server = sp.idp.server([Client().get(urls["metadata"]).content.decode()])
    _, request = server.create_logout_request(
        urls["sls"], urls["metadata"], name_id=NameID(format=edits.EMAIL_FORMAT, text="a@a.example")
    )
    return base64.b64encode(str(request).encode()).decode()


def _day_old_unsigned(sp: Sp) -> str:
    """Anyone can send this one: unsigned, dated a day ago (a 500 before)."""
    return sp.response(
        edits.set_root_attr("IssueInstant", edits.stamp(-timedelta(days=1))), sign=False
    )


H = timedelta(hours=1)
STRICT: list[tuple[str, Callable[[Sp], str], RefusalReason]] = [
    (
        "response_version_1_1",
        _unsigned_envelope(edits.set_root_attr("Version", "1.1")),
        R.SAML_VERSION,
    ),
    ("assertion_version_2_1", _signed(edits.set_attr(".", "Version", "2.1")), R.SAML_VERSION),
    (
        "no_destination",
        _unsigned_envelope(edits.set_root_attr("Destination", None)),
        R.SAML_NO_DESTINATION,
    ),
    (
        "empty_destination",
        _unsigned_envelope(edits.set_root_attr("Destination", "")),
        R.SAML_NO_DESTINATION,
    ),
    (
        "response_issuer_other_trusted_idp",
        _unsigned_envelope(edits.response_issuer("https://idp-b.example/metadata")),
        R.SAML_ISSUER_MISMATCH,
    ),
    (
        "response_issuer_unknown",
        _unsigned_envelope(edits.response_issuer("https://unknown.example/idp")),
        R.SAML_ISSUER_MISMATCH,
    ),
    (
        "response_issuer_format_email",
        _unsigned_envelope(edits.response_issuer(fmt=edits.EMAIL_FORMAT)),
        R.SAML_ISSUER_FORMAT,
    ),
    (
        "assertion_issuer_format_email",
        _signed(edits.set_attr("Issuer", "Format", edits.EMAIL_FORMAT)),
        R.SAML_ISSUER_FORMAT,
    ),
    ("two_assertions", _unsigned_envelope(edits.two_assertions), R.SAML_ASSERTION_COUNT),
    ("no_assertion", _unsigned_envelope(edits.no_assertion), R.SAML_ASSERTION_COUNT),
    (
        "no_audience_restriction",
        _signed(edits.remove("Conditions/AudienceRestriction")),
        R.SAML_NO_AUDIENCE,
    ),
    ("no_conditions", _signed(edits.remove("Conditions")), R.SAML_NO_AUDIENCE),
    (
        "not_bearer",
        _signed(edits.set_attr("Subject/SubjectConfirmation", "Method", edits.HOLDER_OF_KEY)),
        R.SAML_NOT_BEARER,
    ),
    (
        "bearer_without_not_on_or_after",
        _signed(
            edits.set_attr(
                "Subject/SubjectConfirmation/SubjectConfirmationData", "NotOnOrAfter", None
            )
        ),
        R.SAML_NO_EXPIRY,
    ),
    (
        "bearer_expired",
        _signed(
            edits.set_attr(
                "Subject/SubjectConfirmation/SubjectConfirmationData",
                "NotOnOrAfter",
                edits.stamp(-H),
            )
        ),
        R.SAML_EXPIRED,
    ),
    (
        "bearer_without_confirmation_data",
        _signed(edits.remove("Subject/SubjectConfirmation/SubjectConfirmationData")),
        R.SAML_NO_EXPIRY,
    ),
    (
        "bearer_with_not_before",
        _signed(
            edits.set_attr(
                "Subject/SubjectConfirmation/SubjectConfirmationData",
                "NotBefore",
                edits.stamp(-H / 60),
            )
        ),
        R.SAML_CONFIRMATION_NOT_BEFORE,
    ),
    (
        "bearer_in_response_to_other",
        _signed(
            edits.set_attr(
                "Subject/SubjectConfirmation/SubjectConfirmationData", "InResponseTo", "_x"
            )
        ),
        R.SAML_IN_RESPONSE_TO,
    ),
    (
        "bearer_without_recipient",
        _signed(
            edits.set_attr("Subject/SubjectConfirmation/SubjectConfirmationData", "Recipient", None)
        ),
        R.SAML_WRONG_RECIPIENT,
    ),
    (
        "assertion_issued_hours_ago",
        _signed(edits.set_attr(".", "IssueInstant", edits.stamp(-6 * H))),
        R.SAML_TOO_OLD,
    ),
    (
        "authn_instant_hours_ago",
        _signed(edits.set_attr("AuthnStatement", "AuthnInstant", edits.stamp(-6 * H))),
        R.SAML_TOO_OLD,
    ),
    (
        "authn_instant_in_future",
        _signed(edits.set_attr("AuthnStatement", "AuthnInstant", edits.stamp(H))),
        R.SAML_ISSUED_IN_FUTURE,
    ),
    ("no_authn_statement", _signed(edits.remove("AuthnStatement")), R.SAML_NO_AUTHN_STATEMENT),
    ("response_issued_day_ago_unsigned", _day_old_unsigned, R.SAML_TOO_OLD),
    (
        "response_issued_in_future",
        _unsigned_envelope(edits.set_root_attr("IssueInstant", edits.stamp(H))),
        R.SAML_ISSUED_IN_FUTURE,
    ),
    ("schema_invalid", _signed(edits.unknown_element), R.SAML_SCHEMA_INVALID),
    ("wrong_root_element", _logout_request_as_response, R.SAML_WRONG_MESSAGE),
    ("not_saml", lambda sp: base64.b64encode(b"hello, not XML").decode(), R.SAML_MALFORMED),
    ("not_base64", lambda sp: "%%%% not base64 %%%%", R.SAML_MALFORMED),
    ("field_too_large", lambda sp: "A" * (300 * 1024), R.SAML_TOO_LARGE),
    ("body_3mb", lambda sp: "A" * (3 * 1024 * 1024), R.SAML_TOO_LARGE),
]


@pytest.fixture(params=["agent", "visitor"])
def strict_sp(request: pytest.FixtureRequest, client: Client, site: Site, idp_a: DevIdp) -> Sp:
    saml_settings_create(site, idp_a, audience=request.param)
    return Sp(client, site, request.param, idp_a)


@pytest.mark.parametrize(
    ("make", "expected_reason"),
    [(make, reason) for _, make, reason in STRICT],
    ids=[name for name, _, _ in STRICT],
)
def test_acs_enforces_the_strict_profile(
    make: Callable[[Sp], str],
    expected_reason: RefusalReason,
    strict_sp: Sp,
    agent: Agent,
    caplog: pytest.LogCaptureFixture,
) -> None:
    saml_response = make(strict_sp)
    LoginEvent.objects.all().delete()

    # Everything at DEBUG, pysaml2's and djangosaml2's loggers included.
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="saml2"),
        caplog.at_level(logging.DEBUG, logger="djangosaml2"),
    ):
        response = strict_sp.post(saml_response)

    assert response.status_code == expected_reason.status
    assert f'id="reason-code">{expected_reason}<' in response.content.decode()
    audience = Audience(strict_sp.audience)
    assert session_key_for(audience) not in strict_sp.client.session
    assert not Visitor.objects.exists()
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason) == (LoginEvent.Outcome.REFUSED, expected_reason)
    assert (event.site, event.protocol, event.audience) == (strict_sp.site, "saml", audience)
    assert "alice@a.example" not in str(event.detail)
    assert event.detail.get("check"), event.detail  # names the failed check
    # One structured line per refusal; nothing personal anywhere in the logs.
    refusals = [r for r in caplog.records if r.getMessage().startswith("sign-in refused:")]
    assert len(refusals) == 1
    assert f"reason={expected_reason} " in refusals[0].getMessage()
    assert f"ref={event.pk}" in refusals[0].getMessage()
    assert_no_personal_data(caplog)


def assert_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + (caplog.text if record.exc_info else "")
        assert "@a.example" not in text, (record.name, text[:200])
        assert "<" not in text or record.name.startswith("django.request"), (
            record.name,
            text[:200],
        )
        assert "Assertion" not in text or record.name.startswith("sso"), (record.name, text[:200])
    assert "@a.example" not in caplog.text


@pytest.mark.parametrize("audience", ["agent", "visitor"])
def test_control_signs_in(
    client: Client, site: Site, agent: Agent, idp_a: DevIdp, audience: str
) -> None:
    saml_settings_create(site, idp_a, audience=audience)
    sp = Sp(client, site, audience, idp_a)

    response = sp.post(sp.response())

    assert response.status_code == 302, response.content.decode()[:500]
    assert session_key_for(Audience(audience)) in client.session
    event = LoginEvent.objects.get()
    assert event.outcome == LoginEvent.Outcome.SUCCESS


@pytest.mark.parametrize("audience", ["agent", "visitor"])
def test_identity_from_an_attribute_without_name_id(
    client: Client, site: Site, agent: Agent, idp_a: DevIdp, audience: str
) -> None:
    saml_settings_create(site, idp_a, audience=audience, email_attribute="mail")
    sp = Sp(client, site, audience, idp_a)

    response = sp.post(sp.response(edits.name_id_removed, again=True))

    assert response.status_code == 302, response.content.decode()[:500]
    assert session_key_for(Audience(audience)) in client.session
    event = LoginEvent.objects.get()
    assert (event.outcome, event.subject) == (LoginEvent.Outcome.SUCCESS, "alice@a.example")
    assert UsedToken.objects.filter(site=site, kind="saml_assertion").count() == 1


@pytest.mark.parametrize(
    ("audience", "reason"), [("agent", R.SAML_NO_EMAIL), ("visitor", R.MAPPING_FAILED)]
)
def test_no_name_id_and_no_attribute_is_refused(
    client: Client, site: Site, agent: Agent, idp_a: DevIdp, audience: str, reason: R
) -> None:
    saml_settings_create(site, idp_a, audience=audience)
    sp = Sp(client, site, audience, idp_a)

    response = sp.post(sp.response(edits.name_id_removed, again=True))

    assert response.status_code == 403
    assert f'id="reason-code">{reason}<' in response.content.decode()
    assert session_key_for(Audience(audience)) not in client.session
    assert list(LoginEvent.objects.values_list("outcome", "reason")) == [
        (LoginEvent.Outcome.REFUSED, reason)
    ]
    assert not UsedToken.objects.exists()


def test_no_success_row_nor_replay_record_for_a_sign_in_that_fails(
    client: Client, site: Site, idp_a: DevIdp
) -> None:
    """The identity is read, the assertion consumed, then the agent is
    unknown: nothing but the refusal is left behind.
    """
    saml_settings_create(site, idp_a, email_attribute="mail")
    sp = Sp(client, site, "agent", idp_a)

    response = sp.post(sp.response(edits.name_id_removed, again=True, email="nobody@a.example"))

    assert response.status_code == 403
    assert list(LoginEvent.objects.values_list("outcome", "reason")) == [
        (LoginEvent.Outcome.REFUSED, R.UNKNOWN_AGENT)
    ]
    assert not UsedToken.objects.exists()


def test_a_request_started_at_site_a_does_not_answer_at_site_b(
    client: Client,
    saml_site: Site,
    saml_other_site: Site,
    other_agent: Agent,
    idp_a: DevIdp,
    idp_b: DevIdp,
) -> None:
    """Site B's own IdP answers the request this browser sent to site A."""
    request_for_a = sign_in_start(client, saml_site, idp_a)
    at_b = Sp(client, saml_other_site, "agent", idp_b)

    response = at_b.post(at_b.response(in_response_to=request_for_a, email=other_agent.email))

    assert response.status_code == 403
    assert f'id="reason-code">{R.SAML_IN_RESPONSE_TO}<' in response.content.decode()
    assert session_key_for(Audience.AGENT) not in client.session
    event = LoginEvent.objects.get()
    assert (event.site, event.reason) == (saml_other_site, R.SAML_IN_RESPONSE_TO)


def test_an_agent_request_does_not_answer_at_the_visitor_acs(
    client: Client, saml_site: Site, agent: Agent, idp_a: DevIdp
) -> None:
    saml_settings_create(saml_site, idp_a, audience=Audience.VISITOR)
    request_for_agents = sign_in_start(client, saml_site, idp_a)
    visitor_sp = Sp(client, saml_site, "visitor", idp_a)

    response = visitor_sp.post(visitor_sp.response(in_response_to=request_for_agents))

    assert response.status_code == 403
    assert f'id="reason-code">{R.SAML_IN_RESPONSE_TO}<' in response.content.decode()
    assert not Visitor.objects.exists()
    assert LoginEvent.objects.get().reason == R.SAML_IN_RESPONSE_TO


def test_a_request_answers_once(
    client: Client, saml_site: Site, agent: Agent, idp_a: DevIdp
) -> None:
    sp = Sp(client, saml_site, "agent", idp_a)
    request_id = sp.start()
    assert sp.post(sp.response(in_response_to=request_id)).status_code == 302
    client.post("/agent/logout/")
    LoginEvent.objects.all().delete()

    # A second, fresh assertion from the IdP for the same request.
    response = sp.post(sp.response(in_response_to=request_id))

    assert response.status_code == 403
    assert LoginEvent.objects.get().reason == R.SAML_IN_RESPONSE_TO
