"""The troubleshooting console in a real browser: a failing SAML response and
a failing JWT pasted into the console, and "test connection" against the
development IdP ending on the result page (screenshots in var/screenshots).
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User

from devidp import demo_saml
from devidp.idp import MFA_CONTEXT
from sso.jwt.models import JwtSettings
from sso.saml.config import sp_config_cache_clear
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from tenants.models import Agent, LoginEvent, Site
from tenants.services import operator_grant

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SECRET = "a-test-secret-of-thirty-two-bytes!!"


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_console_and_test_connection(
    transactional_db: None,
    live_server: Any,
    page: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = Site.objects.create(site_id=10001, name="Demo Outdoor Shop")
    Agent.objects.create(site=site, email="alice@demo.example", name="Alice Admin")
    monkeypatch.setattr(demo_saml, "KEY_DIR", tmp_path / "devidp")
    sp_config_cache_clear()
    demo_saml.configure(base_url=live_server.url)
    JwtSettings.objects.create(
        site=site,
        audience="visitor",
        enabled=True,
        algorithm="HS256",
        secret_encrypted=secret_encrypt(SECRET),
        secret_fingerprint=secret_fingerprint(SECRET),
        expected_issuer="https://shop.example/",
    )
    user = User.objects.create_user("op", "op@demo.example", "pw-op-123", is_staff=True)
    operator_grant(site=site, user=user)
    base = f"{live_server.url}/admin/troubleshoot/{site.pk}"

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", "pw-op-123")
    page.click("input[type=submit]")

    # A SAML response sent to the wrong address, pasted as XML.
    metadata_url = f"{live_server.url}/sso/10001/agent/saml/metadata/"
    with urllib.request.urlopen(metadata_url) as answer:  # noqa: S310 - the live server
        sp_metadata = answer.read().decode()
    idp = demo_saml.dev_idp(base_url=live_server.url)
    xml = idp.authn_response(
        idp.server([sp_metadata]),
        sp_entity_id=metadata_url,
        acs_url="https://old-gateway.example/acs",
        email="alice@demo.example",
        in_response_to=None,
        authn_context=MFA_CONTEXT,
        attributes=None,
        sign_assertion=True,
    )
    page.goto(f"{base}/console/")
    page.select_option("select[name=protocol]", "saml")
    page.fill("textarea[name=text]", xml)
    page.click("input[type=submit][value='Run the checks']")
    assert page.inner_text("#reason-code") == "saml_wrong_recipient"
    assert page.inner_text("#failed-check") == "destination_recipient"
    screenshot(page, "troubleshoot-console-saml-failing")

    # A visitor JWT from the wrong issuer, pasted.
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "https://staging.shop.example/",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
            "external_id": "vip-1",
        },
        SECRET,
        algorithm="HS256",
    )
    page.goto(f"{base}/console/")
    page.select_option("select[name=audience]", "visitor")
    page.select_option("select[name=protocol]", "jwt")
    page.fill("textarea[name=text]", token)
    page.click("input[type=submit][value='Run the checks']")
    assert page.inner_text("#reason-code") == "jwt_wrong_issuer"
    screenshot(page, "troubleshoot-console-jwt-failing")
    assert not LoginEvent.objects.exists()

    # Test connection: a new tab, the development IdP, the result page.
    page.goto(f"{base}/")
    with page.context.expect_page() as new_tab:
        page.click("#setup-agent a.test-connection >> nth=0")
    tab = new_tab.value
    tab.wait_for_url("**/dev-idp/sso/**")
    tab.click("button[data-email='alice@demo.example']")
    tab.wait_for_url("**/admin/troubleshoot/test/**")
    assert "Every check passed" in tab.inner_text("#verdict")
    screenshot(tab, "troubleshoot-test-connection")
    tab.goto(f"{live_server.url}/console/")
    assert "/agent/login/" in tab.url  # the operator was not signed in as an agent
    assert not LoginEvent.objects.filter(outcome="success").exists()
