"""The development IdP signs the demo site's agents in, end to end over
HTTP (the browser journey is in tests/browser)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from devidp import demo_saml
from sso.saml.config import sp_config_cache_clear
from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, Site


@pytest.fixture
def demo_site(site: Site, agent: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setattr(demo_saml, "KEY_DIR", tmp_path / "devidp")
    sp_config_cache_clear()
    lines = demo_saml.configure(base_url="http://testserver")
    assert "dev-idp" in lines[0]
    return site


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_demo_agent_signs_in_via_dev_idp(client: Client, demo_site: Site, agent: Agent) -> None:
    start = client.get(reverse("sso:agent-login", kwargs={"site_id": demo_site.site_id}))
    idp_url = start["Location"]
    assert urlsplit(idp_url).path == "/dev-idp/sso/"

    pick = client.get(idp_url)
    assert agent.email in pick.content.decode()
    html = pick.content.decode()
    answer = client.post(
        "/dev-idp/sso/",
        {
            "SAMLRequest": _field(html, "SAMLRequest"),
            "RelayState": _field(html, "RelayState"),
            "email": agent.email,
            "mfa": "1",
        },
    )
    posted = answer.content.decode()
    assert 'action="http://testserver/sso/10001/agent/saml/acs/"' in posted

    done = client.post(
        "/sso/10001/agent/saml/acs/", {"SAMLResponse": _field(posted, "SAMLResponse")}
    )

    assert done.status_code == 302
    assert done["Location"] == reverse("console:index")
    assert client.session[session_key_for(Audience.AGENT)]["principal"] == agent.pk
    assert (Path(demo_saml.KEY_DIR) / "idp.key").exists()

    logout = client.post(reverse("agent-logout"))
    assert urlsplit(logout["Location"]).path == "/dev-idp/slo/"
    back = client.get(logout["Location"])
    assert urlsplit(back["Location"]).path == "/sso/10001/agent/saml/sls/"
    assert client.get(back["Location"])["Location"] == reverse("agent-login")
