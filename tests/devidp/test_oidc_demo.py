"""The OpenID Connect demo end to end over HTTP: site 10004 signs agents in
at the development IdP's OpenID provider, with MFA required.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from devidp import demo_oidc
from sso.password.models import AgentCredential
from sso_site.signin.refusals import RefusalReason
from tenants.models import LoginEvent, Protocol
from tests.fixtures.cache import app_cache_clear

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(live_server: Any, settings: Any, tmp_path: Path) -> str:
    settings.SSO_DEVIDP_DIR = tmp_path
    app_cache_clear()
    lines = demo_oidc.configure(base_url=live_server.url)
    assert any("Break-glass" in line for line in lines)
    return str(live_server.url)


def _sign_in(base: str, *, mfa: bool) -> requests.Response:
    browser = requests.Session()
    start = browser.get(f"{base}/sso/{demo_oidc.DEMO_SITE_ID}/agent/login/", timeout=10)
    assert "/dev-idp/oidc/authorize/" in start.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', start.text)
    assert token is not None
    form = {"csrfmiddlewaretoken": token.group(1), "email": "olga@oidc-demo.example"}
    if mfa:
        form["mfa"] = "1"
    return browser.post(start.url, data=form, headers={"Referer": start.url}, timeout=10)


def test_oidc_demo_signs_agent_in(demo: str) -> None:
    response = _sign_in(demo, mfa=True)
    assert response.url == f"{demo}/console/"
    assert LoginEvent.objects.get().protocol == Protocol.OIDC


def test_oidc_demo_refuses_sign_in_without_mfa(demo: str) -> None:
    response = _sign_in(demo, mfa=False)
    assert response.status_code == 403
    assert RefusalReason.MFA_REQUIRED.value in response.text


def test_oidc_demo_is_idempotent(demo: str) -> None:
    lines = demo_oidc.configure(base_url=demo)
    assert not any("Break-glass" in line for line in lines)  # the secret is shown once
    assert AgentCredential.objects.filter(break_glass=True).count() == 1
