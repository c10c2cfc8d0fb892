"""Client authentication, the registry of sign-in methods, and the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from access.models import AccessPolicy, SsoMode
from sso.jwt.models import JwtSettings
from sso.oidc.keys import private_key_generate, public_jwks
from sso.oidc.models import OidcSettings
from sso.starters import METHODS
from sso_site.secret_store import secret_decrypt
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, Protocol, Site
from tests.fixtures.oidc import CLIENT_ID, Flow, assert_refused, redirect_uri
from tests.sso.oidc.provider import OpenIDProvider

pytestmark = pytest.mark.django_db


def test_oidc_private_key_jwt_client_authentication(
    client: Client,
    site: Site,
    provider: OpenIDProvider,
    oidc_agent: Agent,
    oidc_flow: Callable[..., Flow],
) -> None:
    config = OidcSettings(
        site=site,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_auth=OidcSettings.ClientAuth.PRIVATE_KEY_JWT,
    )
    private_key_generate(config)
    config.save()
    jwks = client.get(f"/sso/{site.site_id}/agent/oidc/jwks/").json()
    assert jwks == public_jwks(config=config)
    assert "d" not in jwks["keys"][0]  # the private part never leaves
    provider.add_client(
        CLIENT_ID, "", redirect_uri(site), auth_method="private_key_jwt", public_jwks=jwks
    )
    provider.add_user(oidc_agent.email)
    provider.auto_login = oidc_agent.email
    response = client.get(oidc_flow(site).callback)
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_oidc_wrong_client_secret_is_refused(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: Callable[..., Flow],
) -> None:
    provider.clients[CLIENT_ID].client_secret = "rotated-at-the-provider"
    response = client.get(oidc_flow(site).callback)
    assert_refused(client, response, RefusalReason.OIDC_CODE_REJECTED)


def test_registry_lists_each_method_once() -> None:
    protocols = [method.protocol for method in METHODS]
    assert sorted(protocols) == sorted({Protocol.SAML, Protocol.JWT, Protocol.OIDC})


@pytest.fixture
def jwt_and_oidc(site: Site, oidc_settings: OidcSettings) -> Site:
    JwtSettings.objects.create(
        site=site, audience=Audience.AGENT, enabled=True, login_url="https://login.a.example/sso"
    )
    return site


def test_registry_first_configured_method_wins(client: Client, jwt_and_oidc: Site) -> None:
    response = client.get(f"/sso/{jwt_and_oidc.site_id}/agent/login/")
    assert response["Location"].startswith("https://login.a.example/sso")


def test_registry_site_choice_picks_the_method(
    client: Client, jwt_and_oidc: Site, provider: OpenIDProvider
) -> None:
    AccessPolicy.objects.create(site=jwt_and_oidc, agent_method=AccessPolicy.Method.OIDC)
    response = client.get(f"/sso/{jwt_and_oidc.site_id}/agent/login/")
    assert response["Location"].startswith(f"{provider.issuer}/authorize?")


def test_registry_chosen_method_not_configured_is_refused(client: Client, site: Site) -> None:
    AccessPolicy.objects.create(site=site, agent_method=AccessPolicy.Method.SAML)
    response = client.get(f"/sso/{site.site_id}/agent/login/")
    assert_refused(client, response, RefusalReason.NOT_CONFIGURED)


def test_sso_off_sends_agents_to_password_sign_in(client: Client, site: Site) -> None:
    AccessPolicy.objects.create(site=site, sso_mode=SsoMode.OFF)
    response = client.get(f"/sso/{site.site_id}/agent/login/")
    assert response["Location"] == f"/sso/{site.site_id}/agent/password/"


def test_admin_stores_client_secret_encrypted(
    admin_client: Client, admin_user: User, site: Site
) -> None:
    response = admin_client.post(
        "/admin/sso_oidc/oidcsettings/add/",
        {
            "site": site.pk,
            "audience": "agent",
            "enabled": "on",
            "issuer": "https://idp.a.example",
            "client_id": "gw",
            "client_auth": "client_secret_basic",
            "client_secret": "the-provider-secret-value",
            "scopes": "openid email",
            "identity_claim": "email",
            "mfa_amr_values": "mfa",
            "logout_enabled": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    config = OidcSettings.objects.get(site=site)
    assert "the-provider-secret-value" not in config.client_secret_encrypted
    assert secret_decrypt(config.client_secret_encrypted) == "the-provider-secret-value"
    page = admin_client.get(f"/admin/sso_oidc/oidcsettings/{config.pk}/change/")
    assert b"the-provider-secret-value" not in page.content


def test_admin_refuses_plain_http_issuer(admin_client: Client, site: Site, settings: Any) -> None:
    settings.SSO_OIDC_ALLOW_HTTP = False
    response = admin_client.post(
        "/admin/sso_oidc/oidcsettings/add/",
        {
            "site": site.pk,
            "audience": "agent",
            "issuer": "http://idp.a.example",
            "client_id": "gw",
            "client_auth": "client_secret_basic",
            "client_secret": "the-provider-secret-value",
            "scopes": "openid email",
            "identity_claim": "email",
        },
    )
    assert response.status_code == 200
    assert b"This issuer cannot be used" in response.content
    assert not OidcSettings.objects.exists()
