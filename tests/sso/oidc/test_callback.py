"""OpenID Connect sign-in against a real provider (OIDC Core 1.0 3.1.3.7,
RFC 9700, RFC 7636): success, and each refusal with its reason code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sso.oidc.models import OidcSettings
from sso_site import outbound
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Audience, LoginEvent, Protocol, Site
from tests.fixtures.oidc import Flow, assert_refused
from tests.sso.oidc.provider import OpenIDProvider

pytestmark = pytest.mark.django_db(transaction=False)

FlowRunner = Callable[..., Flow]


def test_oidc_sign_in_succeeds(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    response = client.get(flow.callback)
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    binding = client.session[session_key_for(Audience.AGENT)]
    assert binding["protocol"] == Protocol.OIDC
    event = LoginEvent.objects.get(outcome=LoginEvent.Outcome.SUCCESS)
    assert event.protocol == Protocol.OIDC
    assert event.subject == "olivia@a.example"


def test_oidc_authorization_request_uses_pkce_s256_state_and_nonce(
    client: Client, site: Site, oidc_settings: OidcSettings
) -> None:
    start = client.get(f"/sso/{site.site_id}/agent/login/")
    query = start["Location"].split("?", 1)[1]
    for part in ("code_challenge_method=S256", "code_challenge=", "state=", "nonce="):
        assert part in query


def test_oidc_callback_refuses_wrong_state(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    """RFC 9700 4.7.1: the state binds the answer to this browser's request."""
    flow = oidc_flow(site)
    response = client.get(flow.with_params(state="forged-state"))
    assert_refused(client, response, RefusalReason.OIDC_STATE_MISMATCH)


def test_oidc_callback_refuses_state_from_another_browser(
    site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    other_browser = Client()
    response = other_browser.get(flow.callback)
    assert_refused(other_browser, response, RefusalReason.OIDC_STATE_MISMATCH)


def test_oidc_callback_refuses_replayed_callback(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    assert client.get(flow.callback).status_code == 302
    client.post("/agent/logout/")
    response = client.get(flow.callback)
    assert_refused(client, response, RefusalReason.OIDC_STATE_MISMATCH)


def test_oidc_callback_refuses_replayed_code(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    """RFC 6749 4.1.2: a code is single-use; the provider refuses it again."""
    first = oidc_flow(site)
    assert client.get(first.callback).status_code == 302
    client.post("/agent/logout/")
    second = oidc_flow(site)
    response = client.get(second.with_params(code=first.params["code"]))
    assert_refused(client, response, RefusalReason.OIDC_CODE_REJECTED)


def test_oidc_callback_refuses_provider_error(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    response = client.get(flow.with_params(error="access_denied"))
    assert_refused(client, response, RefusalReason.OIDC_PROVIDER_ERROR)


def _now() -> int:
    return int(time.time())


FORGERIES: list[tuple[str, dict[str, Any], RefusalReason]] = [
    ("wrong nonce", {"claims": {"nonce": "not-the-one"}}, RefusalReason.OIDC_NONCE_MISMATCH),
    ("no nonce", {"drop": ["nonce"]}, RefusalReason.OIDC_NONCE_MISMATCH),
    ("wrong audience", {"claims": {"aud": "someone-else"}}, RefusalReason.OIDC_WRONG_AUDIENCE),
    (
        "several audiences, no azp",
        {"claims": {"aud": ["chat-gateway", "other"]}},
        RefusalReason.OIDC_WRONG_AZP,
    ),
    ("azp of another client", {"claims": {"azp": "other"}}, RefusalReason.OIDC_WRONG_AZP),
    ("wrong issuer", {"claims": {"iss": "https://evil.example"}}, RefusalReason.OIDC_WRONG_ISSUER),
    ("expired", {"claims": {"exp": _now() - 3600}}, RefusalReason.OIDC_EXPIRED),
    ("issued in the future", {"claims": {"iat": _now() + 3600}}, RefusalReason.OIDC_BAD_IAT),
    ("no exp", {"drop": ["exp"]}, RefusalReason.OIDC_MALFORMED),
    ("signed by another key", {"sign_with": "foreign"}, RefusalReason.OIDC_UNKNOWN_KEY),
    (
        "another key under the provider's kid",
        {"sign_with": "foreign-same-kid"},
        RefusalReason.OIDC_BAD_SIGNATURE,
    ),
    ("alg=none", {"sign_with": "none"}, RefusalReason.OIDC_BAD_ALGORITHM),
    (
        "HS256 keyed with the public key",
        {"sign_with": "hs-public"},
        RefusalReason.OIDC_BAD_ALGORITHM,
    ),
]


@pytest.mark.parametrize(
    ("forgery", "misbehave", "reason"), FORGERIES, ids=[f[0] for f in FORGERIES]
)
def test_oidc_callback_refuses_forged_id_token(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
    forgery: str,
    misbehave: dict[str, Any],
    reason: RefusalReason,
) -> None:
    """OIDC Core 3.1.3.7: issuer, audience, azp, signature, alg, exp, iat, nonce."""
    provider.misbehave = misbehave
    flow = oidc_flow(site)
    response = client.get(flow.callback)
    assert_refused(client, response, reason, status=reason.status)


def test_oidc_callback_refuses_unverified_email(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    """OIDC Core 5.1: an email the provider has not verified proves nothing."""
    provider.add_user("olivia@a.example", email_verified=False)
    response = client.get(oidc_flow(site).callback)
    assert_refused(client, response, RefusalReason.OIDC_EMAIL_UNVERIFIED)


def test_oidc_sign_in_without_email_verified_claim_is_accepted(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    provider.add_user("olivia@a.example", email_verified=None)
    assert client.get(oidc_flow(site).callback).status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_oidc_callback_refuses_unknown_agent(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    provider.add_user("nobody@a.example")
    provider.auto_login = "nobody@a.example"
    response = client.get(oidc_flow(site).callback)
    assert_refused(client, response, RefusalReason.UNKNOWN_AGENT)


def test_oidc_identity_from_configured_claim(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    provider.add_user("someone@idp.example", work_email="olivia@a.example")
    provider.auto_login = "someone@idp.example"
    oidc_settings.identity_claim = "work_email"
    oidc_settings.save()
    assert client.get(oidc_flow(site).callback).status_code == 302
    provider.add_user("else@idp.example")
    provider.auto_login = "else@idp.example"
    client.post("/agent/logout/")
    response = client.get(oidc_flow(site).callback)
    assert_refused(client, response, RefusalReason.OIDC_NO_IDENTITY)


def test_oidc_follows_key_rotation_at_the_provider(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    """A token under a kid the cached JWKS lacks makes the RP fetch it again."""
    assert client.get(oidc_flow(site).callback).status_code == 302
    client.post("/agent/logout/")
    provider.rotate_keys()
    response = client.get(oidc_flow(site).callback)
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


@pytest.mark.parametrize(
    ("amr", "acr", "signed_in"),
    [
        (None, None, False),
        (["pwd"], None, False),
        (["pwd", "otp"], None, True),
        (["mfa"], None, True),
        (None, "urn:example:loa:high", True),
    ],
)
def test_oidc_mfa_policy_reads_amr_and_acr(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
    amr: list[str] | None,
    acr: str | None,
    signed_in: bool,
) -> None:
    oidc_settings.mfa_required = True
    oidc_settings.mfa_acr_values = "urn:example:loa:high"
    oidc_settings.save()
    provider.amr, provider.acr = amr, acr
    response = client.get(oidc_flow(site).callback)
    if signed_in:
        assert response.status_code == 302
        assert session_key_for(Audience.AGENT) in client.session
    else:
        assert_refused(client, response, RefusalReason.MFA_REQUIRED)


def test_oidc_without_mfa_policy_accepts_any_amr(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    assert client.get(oidc_flow(site).callback).status_code == 302


def test_oidc_sign_in_keeps_permitted_return_to(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site, next="/console/?tab=chats")
    response = client.get(flow.callback)
    assert response["Location"] == "/console/?tab=chats"


def test_oidc_rp_initiated_logout(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    provider: OpenIDProvider,
    oidc_flow: FlowRunner,
) -> None:
    client.get(oidc_flow(site).callback)
    response = client.post("/agent/logout/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{provider.issuer}/logout?")
    assert "client_id=chat-gateway" in response["Location"]
    assert session_key_for(Audience.AGENT) not in client.session


def test_oidc_unreachable_provider_is_refused_not_500(
    client: Client, site: Site, oidc_agent: Any
) -> None:
    OidcSettings.objects.create(
        site=site, issuer="http://127.0.0.1:9", client_id="x", client_secret_encrypted=""
    )
    response = client.get(f"/sso/{site.site_id}/agent/login/")
    assert_refused(client, response, RefusalReason.OIDC_PROVIDER_UNAVAILABLE)


def test_oidc_callback_refuses_disabled_site(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    site.is_active = False
    site.save()
    response = client.get(flow.callback)
    assert_refused(client, response, RefusalReason.SITE_DISABLED)


def test_oidc_callback_refuses_oversized_parameter(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    response = client.get(flow.with_params(code="x" * 5000))
    assert_refused(client, response, RefusalReason.OIDC_MALFORMED, status=400)


def test_oidc_callback_without_code_is_refused(
    client: Client, site: Site, oidc_settings: OidcSettings, oidc_flow: FlowRunner
) -> None:
    flow = oidc_flow(site)
    params = {k: v for k, v in flow.params.items() if k != "code"}
    response = client.get(f"/sso/{site.site_id}/agent/oidc/callback/", params)
    assert_refused(client, response, RefusalReason.OIDC_MALFORMED, status=400)


def test_oidc_token_request_goes_through_the_outbound_guard(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    oidc_flow: FlowRunner,
    provider: OpenIDProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The POST to the token endpoint is DNS-pinned and address-checked like
    every other fetch: it is sent by the guard, not by requests' own pool.
    """
    sent: list[tuple[str, str]] = []
    real_get_once = outbound._get_once

    def recording(url: str, **kwargs: Any) -> Any:
        sent.append((kwargs.get("method", "GET"), url))
        return real_get_once(url, **kwargs)

    monkeypatch.setattr(outbound, "_get_once", recording)
    flow = oidc_flow(site)
    response = client.get(flow.callback)

    assert response.status_code == 302, response.content[:300]
    assert session_key_for(Audience.AGENT) in client.session
    assert ("POST", provider.discovery()["token_endpoint"]) in sent


def test_oidc_token_endpoint_on_a_private_address_is_refused_at_the_post(
    client: Client,
    site: Site,
    oidc_settings: OidcSettings,
    oidc_flow: FlowRunner,
    settings: Any,
) -> None:
    flow = oidc_flow(site)
    # The provider moved to an internal address after sign-in started.
    settings.SSO_OIDC_ALLOW_PRIVATE = False
    response = client.get(flow.callback)
    assert_refused(client, response, RefusalReason.OIDC_PROVIDER_UNAVAILABLE)
