"""The JWT demo end to end: site 10003 signs agents in through the dev
IdP's login page, which plays the customer's system and issues the JWT.
"""

from __future__ import annotations

import html
import re
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from devidp import demo_jwt
from devidp.jwt_login import DEMO_SITE_ID
from sso.jwt.models import JwtSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, LoginEvent
from tests.fixtures.jwt import reason_on_page, session_binding

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Path) -> None:
    settings.SSO_DEVIDP_DIR = tmp_path / "devidp"
    demo_jwt.configure(base_url=BASE_URL)


@pytest.fixture
def client() -> Client:
    """A browser at the address ``make run`` serves."""
    return Client(HTTP_HOST="127.0.0.1:8000")


def local(url: str) -> str:
    assert url.startswith(BASE_URL)
    return url.removeprefix(BASE_URL)


def posted_form(response: Any) -> tuple[str, str]:
    """Return the action and the token of an auto-submitting JWT form."""
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="jwt-post"' in body
    assert 'getElementById("jwt-post").submit()' in body
    action = re.search(r'<form method="post" action="([^"]+)" id="jwt-post">', body)
    token = re.search(r'<input type="hidden" name="jwt" value="([^"]+)">', body)
    assert action is not None
    assert token is not None
    return html.unescape(action[1]), token[1]


def test_demo_jwt_sign_in_end_to_end(client: Client, demo: None) -> None:
    # The agent starts at the site-ID form.
    start = client.post("/agent/login/", {"site_id": DEMO_SITE_ID})
    to_idp = client.get(start["Location"])
    assert urlsplit(to_idp["Location"]).path == "/dev-idp/jwt/login/"

    # The customer's login page lists the site's agents.
    page = client.get(local(to_idp["Location"]))
    assert page.status_code == 200
    assert b"kim@jwt-demo.example" in page.content

    # It sends the token back in a self-submitting form post, not in a URL.
    back = client.post(local(to_idp["Location"]), {"email": "kim@jwt-demo.example", "mfa": "1"})
    action, token = posted_form(back)
    callback = urlsplit(action)
    assert callback.path == f"/sso/{DEMO_SITE_ID}/agent/jwt/"
    assert "jwt" not in parse_qs(callback.query)
    assert back["Referrer-Policy"] == "no-referrer"

    signed_in = client.post(local(action), {"jwt": token})
    assert signed_in["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    assert b"Kim Agent" in console.content
    assert (
        session_binding(client)["principal"] == Agent.objects.get(email="kim@jwt-demo.example").pk
    )

    # Logging out ends at the customer's logout page.
    out = client.post("/agent/logout/")
    assert urlsplit(out["Location"]).path == "/dev-idp/jwt/logout/"
    assert session_binding(client) is None


def test_demo_refuses_a_deactivated_agent(client: Client, demo: None) -> None:
    login = f"/dev-idp/jwt/login/?return_to={BASE_URL}/sso/{DEMO_SITE_ID}/agent/jwt/"
    back = client.post(login, {"email": "former@jwt-demo.example", "mfa": "1"})
    action, token = posted_form(back)
    response = client.post(local(action), {"jwt": token})
    assert reason_on_page(response) == RefusalReason.AGENT_INACTIVE
    assert session_binding(client) is None


def test_demo_login_page_returns_only_to_this_service(client: Client, demo: None) -> None:
    response = client.post(
        "/dev-idp/jwt/login/?return_to=https://evil.example/", {"email": "x@y.z"}
    )
    assert response.status_code == 400


def test_demo_setup_configures_the_jwt_site(db: None, settings: Any, tmp_path: Path) -> None:
    settings.SSO_DEVIDP_DIR = tmp_path
    out = StringIO()
    call_command("demo_setup", stdout=out)
    call_command("demo_setup", stdout=StringIO())  # idempotent

    config = JwtSettings.objects.get(site__site_id=DEMO_SITE_ID)
    assert config.enabled
    assert "site ID 10003" in out.getvalue()
    assert not LoginEvent.objects.exists()
