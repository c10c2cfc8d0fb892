"""Visitor SSO over SAML: the visitor's own SP entity per site; the popup
flow from the chat window to the handoff page; an agent assertion never
signs a visitor in, nor the reverse.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from saml2 import BINDING_HTTP_REDIRECT

from campaigns.models import Visitor
from chats.models import Chat
from devidp.idp import DevIdp
from mapping.demo import demo_mappings_ensure
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, Site
from tests.fixtures.chats import Campaigns, WindowClient
from tests.fixtures.saml import saml_settings_create


def urls(site: Site, audience: str) -> dict[str, str]:
    base = f"http://testserver/sso/{site.site_id}/{audience}/saml"
    return {"metadata": f"{base}/metadata/", "acs": f"{base}/acs/"}


def reason_on_page(response: Any) -> str:
    body = response.content.decode()
    start = body.index('id="reason-code">') + len('id="reason-code">')
    return body[start : body.index("<", start)]


@pytest.fixture
def saml_campaign(site: Site, campaigns: Campaigns, idp_a: DevIdp) -> Campaigns:
    saml_settings_create(site, idp_a, audience=Audience.VISITOR)
    saml_settings_create(site, idp_a, audience=Audience.AGENT)
    for campaign in (campaigns.optional, campaigns.required):
        campaign.visitor_sso = "saml"
        campaign.save()
    return campaigns


def start(client: Client, site: Site, campaign_pk: int, idp: DevIdp) -> tuple[str, str]:
    """Start the visitor's sign-in; return the AuthnRequest ID and RelayState."""
    response = client.get(f"/sso/{site.site_id}/visitor/login/", {"campaign": campaign_pk})
    assert response.status_code == 302, response.content[:300]
    query = parse_qs(urlsplit(response["Location"]).query)
    request = idp.server([]).parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
    return str(request.message.id), query["RelayState"][0]


def response_for(
    idp: DevIdp,
    *,
    site: Site,
    sp: str,
    name_id: str,
    in_response_to: str,
    acs_of: str = "",
    signed: bool = True,
    attributes: dict[str, list[str]] | None = None,
) -> str:
    """A signed response for ``sp``'s entity, sent to ``acs_of``'s ACS (default: its own)."""
    sp_urls = urls(site, sp)
    sp_metadata = Client().get(sp_urls["metadata"]).content.decode()
    xml = idp.authn_response(
        idp.server([sp_metadata]),
        sp_entity_id=sp_urls["metadata"],
        acs_url=urls(site, acs_of or sp)["acs"],
        email=name_id,
        in_response_to=in_response_to,
        attributes={"mail": [name_id], "displayName": ["Sam Saml"], **(attributes or {})},
        sign_assertion=signed,
    )
    return base64.b64encode(xml.encode()).decode()


def test_visitor_signs_in_over_saml_and_the_window_gets_the_chat(
    client: Client, site: Site, saml_campaign: Campaigns, idp_a: DevIdp
) -> None:
    campaign = saml_campaign.required
    request_id, relay_state = start(client, site, campaign.pk, idp_a)
    assert relay_state == f"/chat/{site.site_id}/{campaign.pk}/signed-in/"
    saml_response = response_for(
        idp_a, site=site, sp="visitor", name_id="sam@shop.example", in_response_to=request_id
    )

    response = client.post(
        f"/sso/{site.site_id}/visitor/saml/acs/",
        {"SAMLResponse": saml_response, "RelayState": relay_state},
    )

    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == relay_state
    # The popup keeps its opener (the chat window) through the ACS redirect.
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert response["Referrer-Policy"] == "no-referrer"
    visitor = Visitor.objects.get()
    assert (visitor.external_id, visitor.name, visitor.last_protocol) == (
        "sam@shop.example",
        "Sam Saml",
        "saml",
    )
    page = client.get(relay_state).content.decode()
    marker = 'id="handoff-code" type="application/json">"'
    code = page[page.index(marker) + len(marker) :].split('"', 1)[0]
    window = WindowClient(Client(), campaign)
    assert window.post("redeem/", {"code": code}).status_code == 200
    assert window.post("start/", {}).status_code == 200
    assert Chat.objects.get().visitor == visitor


def test_an_idp_custom_attribute_reaches_the_site_mappings(
    client: Client, site: Site, saml_campaign: Campaigns, idp_a: DevIdp
) -> None:
    # pysaml2 has no friendly name for it: the SP must keep it anyway.
    demo_mappings_ensure(site=site)  # membershipLevel -> membership_level
    campaign = saml_campaign.required
    request_id, relay_state = start(client, site, campaign.pk, idp_a)
    saml_response = response_for(
        idp_a,
        site=site,
        sp="visitor",
        name_id="sam@shop.example",
        in_response_to=request_id,
        attributes={"membershipLevel": ["VIP"]},
    )

    response = client.post(
        f"/sso/{site.site_id}/visitor/saml/acs/",
        {"SAMLResponse": saml_response, "RelayState": relay_state},
    )

    assert response.status_code == 302, response.content.decode()[:500]
    assert Visitor.objects.get().custom["membership_level"] == "VIP"


def test_visitor_metadata_is_its_own_sp_entity(
    client: Client, site: Site, saml_campaign: Campaigns
) -> None:
    visitor_md = client.get(f"/sso/{site.site_id}/visitor/saml/metadata/").content.decode()
    agent_md = client.get(f"/sso/{site.site_id}/agent/saml/metadata/").content.decode()
    assert f'entityID="{urls(site, "visitor")["metadata"]}"' in visitor_md
    assert f'entityID="{urls(site, "agent")["metadata"]}"' in agent_md
    assert urls(site, "agent")["acs"] not in visitor_md


@pytest.mark.parametrize(
    ("acs_of", "reason"),
    [
        ("agent", RefusalReason.SAML_WRONG_RECIPIENT),  # for the agent SP, sent there
        ("visitor", RefusalReason.SAML_WRONG_AUDIENCE),  # for the agent SP, sent to ours
    ],
)
def test_an_agent_assertion_never_signs_a_visitor_in(
    client: Client,
    site: Site,
    saml_campaign: Campaigns,
    idp_a: DevIdp,
    acs_of: str,
    reason: RefusalReason,
) -> None:
    request_id, relay_state = start(client, site, saml_campaign.optional.pk, idp_a)
    for_agents = response_for(
        idp_a,
        site=site,
        sp="agent",
        name_id="alice@a.example",
        in_response_to=request_id,
        acs_of=acs_of,
    )
    response = client.post(
        f"/sso/{site.site_id}/visitor/saml/acs/",
        {"SAMLResponse": for_agents, "RelayState": relay_state},
    )
    assert response.status_code == 403
    assert reason_on_page(response) == reason
    assert session_key_for(Audience.VISITOR) not in client.session
    assert not Visitor.objects.exists()


def test_a_visitor_assertion_never_signs_an_agent_in(
    client: Client, site: Site, agent: Agent, saml_campaign: Campaigns, idp_a: DevIdp
) -> None:
    request_id, _ = start(client, site, saml_campaign.optional.pk, idp_a)
    for_visitors = response_for(
        idp_a,
        site=site,
        sp="visitor",
        name_id=agent.email,
        in_response_to=request_id,
        acs_of="agent",
    )
    response = client.post(f"/sso/{site.site_id}/agent/saml/acs/", {"SAMLResponse": for_visitors})
    assert response.status_code == 403
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"  # agents: Django's default
    # The request was the visitor SP's: the agent ACS does not know it.
    assert reason_on_page(response) == RefusalReason.SAML_IN_RESPONSE_TO
    assert session_key_for(Audience.AGENT) not in client.session


def test_visitor_saml_not_configured_is_refused(
    client: Client, site: Site, saml_campaign: Campaigns
) -> None:
    SamlSettings.objects.filter(audience=Audience.VISITOR).delete()
    response = client.get(
        f"/sso/{site.site_id}/visitor/login/", {"campaign": saml_campaign.optional.pk}
    )
    assert response.status_code == 403
    assert reason_on_page(response) == RefusalReason.NOT_CONFIGURED


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", RefusalReason.SAML_UNSIGNED),
        ("site disabled", RefusalReason.SITE_DISABLED),
        ("visitor SAML removed", RefusalReason.NOT_CONFIGURED),
        ("no SAMLResponse", RefusalReason.BAD_REQUEST),
    ],
)
def test_visitor_acs_refusals(
    client: Client,
    site: Site,
    saml_campaign: Campaigns,
    idp_a: DevIdp,
    case: str,
    reason: RefusalReason,
) -> None:
    request_id, relay_state = start(client, site, saml_campaign.required.pk, idp_a)
    saml_response = response_for(
        idp_a,
        site=site,
        sp="visitor",
        name_id="sam@shop.example",
        in_response_to=request_id,
        signed=case != "unsigned",
    )
    data = {"SAMLResponse": saml_response, "RelayState": relay_state}
    acs = f"/sso/{site.site_id}/visitor/saml/acs/"
    if case == "site disabled":
        Site.objects.filter(pk=site.pk).update(is_active=False)
    elif case == "visitor SAML removed":
        SamlSettings.objects.filter(audience=Audience.VISITOR).delete()
    elif case == "no SAMLResponse":
        data = {"RelayState": relay_state}

    response = client.post(acs, data)

    assert response.status_code == reason.status
    assert reason_on_page(response) == reason
    assert session_key_for(Audience.VISITOR) not in client.session
    assert not Visitor.objects.exists()
