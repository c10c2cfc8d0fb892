"""Visitor SAML in the demo: ``demo_setup`` gives site 10001 a campaign whose
visitors sign in over SAML, answered by the development IdP with demo
visitors and their attributes; a replayed assertion is refused at the
visitor ACS.
"""

from __future__ import annotations

import base64
import re
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Visitor
from devidp import chat_demo, demo_saml
from sso.saml.config import sp_config_cache_clear
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Audience, LoginEvent, Site

BASE_URL = "http://127.0.0.1:8000"
ACS = "/sso/10001/visitor/saml/acs/"


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    settings.SSO_DEVIDP_DIR = tmp_path / "devidp"
    monkeypatch.setattr(demo_saml, "KEY_DIR", tmp_path / "devidp-saml")
    sp_config_cache_clear()
    call_command("demo_setup", base_url=BASE_URL, stdout=StringIO())
    call_command("demo_setup", base_url=BASE_URL, stdout=StringIO())  # idempotent
    site = Site.objects.get(site_id=10001)
    assert SamlSettings.objects.for_site(site).filter(audience=Audience.VISITOR).count() == 1
    campaign = Campaign.objects.for_site(site).get(name=chat_demo.SAML_CAMPAIGN)
    assert campaign.visitor_sso == "saml"
    return campaign


@pytest.fixture
def client() -> Client:
    """A browser at the address ``make run`` serves."""
    return Client(HTTP_HOST="127.0.0.1:8000")


def local(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url.removeprefix(BASE_URL)


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def reason_on_page(response: Any) -> str:
    match = re.search(r'id="reason-code">([^<]*)<', response.content.decode())
    assert match
    return match.group(1)


def handoff_url(campaign: Campaign) -> str:
    return reverse("chats:handoff", kwargs={"site_id": 10001, "campaign_id": campaign.pk})


def test_demo_visitor_signs_in_over_saml_via_the_dev_idp(client: Client, demo: Campaign) -> None:
    start = client.get("/sso/10001/visitor/login/", {"campaign": demo.pk})
    assert start.status_code == 302
    assert urlsplit(start["Location"]).path == "/dev-idp/sso/"

    pick = client.get(local(start["Location"]))
    html = pick.content.decode()
    assert "vera@customer.example" in html
    assert "alice@demo.example" not in html  # agents are for the agent SP
    assert pick["Cross-Origin-Opener-Policy"] == "unsafe-none"  # the popup keeps its opener
    answer = client.post(
        "/dev-idp/sso/",
        {
            "SAMLRequest": _field(html, "SAMLRequest"),
            "RelayState": _field(html, "RelayState"),
            "email": "vera@customer.example",
        },
    )
    posted = answer.content.decode()
    assert f'action="{BASE_URL}{ACS}"' in posted

    done = client.post(
        ACS,
        {
            "SAMLResponse": _field(posted, "SAMLResponse"),
            "RelayState": _field(posted, "RelayState"),
        },
    )

    assert done.status_code == 302, done.content.decode()[:500]
    assert done["Location"] == handoff_url(demo)
    assert session_key_for(Audience.VISITOR) in client.session
    visitor = Visitor.objects.get()
    assert (visitor.external_id, visitor.name, visitor.email, visitor.last_protocol) == (
        "vera@customer.example",
        "Vera Summit",
        "vera@customer.example",
        "saml",
    )
    assert visitor.custom["membership_level"] == "VIP"
    assert visitor.custom["lifetime_value"] == 5400
    assert "customer_since" in visitor.custom


def _unsolicited_response(email: str) -> str:
    """A signed response of the dev IdP for site 10001's visitor SP."""
    idp = demo_saml.dev_idp(base_url=BASE_URL)
    entity_id = f"{BASE_URL}/sso/10001/visitor/saml/metadata/"
    sp_metadata = Client(HTTP_HOST="127.0.0.1:8000").get(local(entity_id)).content.decode()
    xml = idp.authn_response(
        idp.server([sp_metadata]),
        sp_entity_id=entity_id,
        acs_url=f"{BASE_URL}{ACS}",
        email=email,
        in_response_to=None,
        attributes=chat_demo.visitor_saml_attributes(email),
    )
    return base64.b64encode(xml.encode()).decode()


@pytest.mark.parametrize("where", ["same browser", "other browser"])
def test_a_replayed_visitor_assertion_is_refused(
    client: Client, demo: Campaign, where: str
) -> None:
    SamlSettings.objects.filter(site__site_id=10001, audience=Audience.VISITOR).update(
        allow_idp_initiated=True
    )
    data = {
        "SAMLResponse": _unsolicited_response("milo@customer.example"),
        "RelayState": handoff_url(demo),
    }
    first = client.post(ACS, data)
    assert first.status_code == 302, first.content.decode()[:500]
    assert Visitor.objects.get().name == "Milo Trail"
    if where == "same browser":  # signed out of the window since
        session = client.session
        del session[session_key_for(Audience.VISITOR)]
        session.save()
        replaying = client
    else:
        replaying = Client(HTTP_HOST="127.0.0.1:8000")

    again = replaying.post(ACS, data)

    assert again.status_code == 403
    assert reason_on_page(again) == RefusalReason.REPLAY
    assert session_key_for(Audience.VISITOR) not in replaying.session
    assert Visitor.objects.count() == 1
    event = LoginEvent.objects.order_by("pk").last()
    assert event is not None
    assert (event.audience, event.reason) == (Audience.VISITOR, RefusalReason.REPLAY)
