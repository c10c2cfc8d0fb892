"""Single logout that works: IdP-initiated (both bindings) and SP-initiated,
each ending the session through ``sign_out()`` with one audit row.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256

from devidp.idp import DevIdp
from sso.saml import slo
from sso.saml.crypto import xml_parse
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso.saml.signing import xml_verify
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.saml import (
    SAML_NS,
    ResponseFactory,
    acs_post,
    idp_logout_request,
    idp_server,
    redirect_location,
    saml_settings_create,
    saml_subject_session_index,
    sp_urls,
)


def _signed_in(client: Client, site: Site, factory: ResponseFactory) -> None:
    assert acs_post(client, site, factory(site)).status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def _sp_cert_body(site: Site) -> str:
    pem = SamlSettings.objects.get(site=site).sp_certificate
    return "".join(line for line in pem.splitlines() if "-----" not in line)


@pytest.fixture
def sign_out_calls(monkeypatch: pytest.MonkeyPatch) -> list[Audience]:
    """Record the SLS's calls of the real ``sign_out()``."""
    calls: list[Audience] = []
    real = slo.sign_out  # type: ignore[attr-defined]

    def spy(request: Any, *, audience: Audience) -> Any:
        calls.append(audience)
        return real(request, audience=audience)

    monkeypatch.setattr(slo, "sign_out", spy)
    return calls


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_idp_initiated_logout_goes_through_sign_out_with_one_audit_row(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
    sign_out_calls: list[Audience],
    binding: str,
) -> None:
    _signed_in(client, saml_site, saml_response_factory)
    index = saml_subject_session_index(client, saml_site)
    server = idp_server(client, saml_site, idp_a)
    before = LoginEvent.objects.count()
    xml = idp_logout_request(
        server, saml_site, email=agent.email, session_indexes=[index], sign_xml=binding == "post"
    )

    if binding == "redirect":
        response = client.get(redirect_location(server, xml, saml_site))
    else:
        response = client.post(
            sp_urls(saml_site)["sls"], {"SAMLRequest": base64.b64encode(xml.encode()).decode()}
        )

    assert response.status_code == 302
    assert response["Location"].startswith(idp_a.slo_url)
    assert session_key_for(Audience.AGENT) not in client.session
    assert sign_out_calls == [Audience.AGENT]
    events = list(LoginEvent.objects.order_by("pk")[before:])
    assert [(e.outcome, e.subject) for e in events] == [
        (LoginEvent.Outcome.SIGNED_OUT, agent.email)
    ]
    # The answer is a LogoutResponse signed with the SP's key, which the IdP checks.
    query = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    cert = _sp_cert_body(saml_site)
    assert verify_redirect_signature(query, server.sec.sec_backend, cert)
    answer = server.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert answer.response.status.status_code.value.endswith(":Success")


def test_sp_initiated_logout_round_trip(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    _signed_in(client, saml_site, saml_response_factory)
    before = LoginEvent.objects.count()

    response = client.post(reverse("agent-logout"))

    assert response.status_code == 302
    assert response["Location"].startswith(idp_a.slo_url)
    assert session_key_for(Audience.AGENT) not in client.session
    server = idp_server(client, saml_site, idp_a)
    query = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    cert = _sp_cert_body(saml_site)
    assert verify_redirect_signature(query, server.sec.sec_backend, cert)  # signed by the SP
    request = server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
    assert request.message.name_id.text == agent.email
    answer = server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    location = redirect_location(server, str(answer), saml_site, response=True)

    back = client.get(location)
    again = client.get(location)

    assert back.status_code == 302
    assert back["Location"] == reverse("agent-login")
    # One sign-out row; the replayed answer is refused: it answers nothing now.
    assert f'id="reason-code">{RefusalReason.SAML_LOGOUT_UNSOLICITED}<' in again.content.decode()
    events = LoginEvent.objects.order_by("pk")[before:]
    assert [(e.outcome, e.reason) for e in events] == [
        (LoginEvent.Outcome.SIGNED_OUT, ""),
        (LoginEvent.Outcome.REFUSED, RefusalReason.SAML_LOGOUT_UNSOLICITED.value),
    ]


def test_sp_initiated_logout_stays_post_with_csrf(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    _signed_in(client, saml_site, saml_response_factory)
    client.handler.enforce_csrf_checks = True

    shown = client.get(reverse("agent-logout"))  # a GET only shows the sign-out button
    assert shown.status_code == 200
    assert b"csrfmiddlewaretoken" in shown.content
    assert client.post(reverse("agent-logout")).status_code == 403
    assert session_key_for(Audience.AGENT) in client.session


def test_logout_request_without_a_session_is_answered_and_changes_nothing(
    client: Client, saml_site: Site, agent: Agent, idp_a: DevIdp
) -> None:
    server = idp_server(client, saml_site, idp_a)
    xml = idp_logout_request(server, saml_site, email=agent.email)

    response = client.get(redirect_location(server, xml, saml_site))

    assert response.status_code == 302
    assert "SAMLResponse=" in response["Location"]
    assert not LoginEvent.objects.exists()


def test_visitor_idp_initiated_logout_ends_the_visitor_session(
    client: Client, site: Site, idp_a: DevIdp, sign_out_calls: list[Audience]
) -> None:
    saml_settings_create(site, idp_a, audience=Audience.VISITOR, allow_idp_initiated=True)
    kwargs = {"site_id": site.site_id}
    metadata = f"http://testserver{reverse('sso:visitor-saml-metadata', kwargs=kwargs)}"
    acs = f"http://testserver{reverse('sso:visitor-saml-acs', kwargs=kwargs)}"
    sls = f"http://testserver{reverse('sso:visitor-saml-sls', kwargs=kwargs)}"
    server = idp_a.server([client.get(metadata).content.decode()])
    xml = idp_a.authn_response(
        server, sp_entity_id=metadata, acs_url=acs, email="vera@v.example", in_response_to=None
    )
    signed_in = client.post(acs, {"SAMLResponse": base64.b64encode(xml.encode()).decode()})
    assert signed_in.status_code == 302, signed_in.content[:300]
    assert session_key_for(Audience.VISITOR) in client.session
    _, message = server.create_logout_request(
        sls, metadata, name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text="vera@v.example")
    )
    http = server.apply_binding(
        BINDING_HTTP_REDIRECT, str(message), sls, sign=True, sigalg=SIG_RSA_SHA256
    )
    before = LoginEvent.objects.count()

    response = client.get(dict(http["headers"])["Location"])

    assert response.status_code == 302
    assert "SAMLResponse=" in response["Location"]
    assert session_key_for(Audience.VISITOR) not in client.session
    assert sign_out_calls == [Audience.VISITOR]
    events = list(LoginEvent.objects.order_by("pk")[before:])
    assert [(e.outcome, e.audience) for e in events] == [
        (LoginEvent.Outcome.SIGNED_OUT, Audience.VISITOR)
    ]


def test_sp_initiated_logout_posts_a_signed_request_to_a_post_only_idp(
    client: Client, site: Site, agent: Agent, idp_a: DevIdp, saml_response_factory: ResponseFactory
) -> None:
    """An IdP whose SingleLogoutService is HTTP-POST only gets an enveloped
    signature (SHA-256) by the SP's key.
    """
    metadata = idp_a.metadata_xml()
    redirect_slo = f'Binding="{BINDING_HTTP_REDIRECT}" Location="{idp_a.slo_url}"'
    assert redirect_slo in metadata
    saml = SamlSettings(
        site=site,
        source=SamlSettings.Source.XML,
        metadata_xml=metadata.replace(
            redirect_slo, f'Binding="{BINDING_HTTP_POST}" Location="{idp_a.slo_url}"'
        ),
    )
    saml_settings_save(saml)
    _signed_in(client, site, saml_response_factory)

    response = client.post(reverse("agent-logout"))

    assert response.status_code == 200
    found = re.search(r'name="SAMLRequest" value="([^"]+)"', response.content.decode())
    assert found is not None
    root = xml_parse(base64.b64decode(found.group(1)))
    assert root.findtext(f"{{{SAML_NS}}}NameID") == agent.email
    xml_verify(root, certificates=[saml.sp_certificate], allow_sha1=False)
    assert session_key_for(Audience.AGENT) not in client.session


def test_logout_response_goes_to_the_idps_response_location(
    client: Client, site: Site, agent: Agent, idp_a: DevIdp, saml_response_factory: ResponseFactory
) -> None:
    redirect_slo = f'Binding="{BINDING_HTTP_REDIRECT}" Location="{idp_a.slo_url}"'
    answers = "https://idp-a.example/slo-answers"
    saml = SamlSettings(
        site=site,
        source=SamlSettings.Source.XML,
        metadata_xml=idp_a.metadata_xml().replace(
            redirect_slo, f'{redirect_slo} ResponseLocation="{answers}"'
        ),
    )
    saml_settings_save(saml)
    _signed_in(client, site, saml_response_factory)
    server = idp_server(client, site, idp_a)
    xml = idp_logout_request(server, site, email=agent.email)

    response = client.get(redirect_location(server, xml, site))

    assert response["Location"].startswith(f"{answers}?SAMLResponse=")
    assert session_key_for(Audience.AGENT) not in client.session
