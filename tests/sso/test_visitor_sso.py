"""Visitor SSO: the popup flow, the JSON handoff, and every refusal of the
visitor callbacks. Each refusal row asserts the status, the reason code (on
the page, or in the JSON), that no visitor was bound to the session nor
created, and the audit event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from campaigns.models import Visitor
from chats.models import Chat
from mapping.models import FieldMapping, Target
from sso.jwt.models import JwtSettings
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Audience, LoginEvent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import (
    AGENT_SECRET,
    OTHER_SITE_SECRET,
    Campaigns,
    WindowClient,
    jwt_settings_create,
    make_jwt,
)


@dataclass
class Ctx:
    site: Site
    other_site: Site
    campaigns: Campaigns
    settings: JwtSettings


# A forgery returns (site_id in the URL, POST data) after changing what it needs.
Forgery = Callable[[Ctx], tuple[int, dict[str, str]]]


def ok(ctx: Ctx, **claims: Any) -> tuple[int, dict[str, str]]:
    return ctx.site.site_id, {"campaign": str(ctx.campaigns.optional.pk), "jwt": make_jwt(**claims)}


def disabled_site(ctx: Ctx) -> tuple[int, dict[str, str]]:
    Site.objects.filter(pk=ctx.site.pk).update(is_active=False)
    return ok(ctx)


def unknown_site(ctx: Ctx) -> tuple[int, dict[str, str]]:
    return 99999, ok(ctx)[1]


def no_campaign(ctx: Ctx) -> tuple[int, dict[str, str]]:
    return ctx.site.site_id, {"jwt": make_jwt()}


def other_sites_campaign(ctx: Ctx) -> tuple[int, dict[str, str]]:
    other = CampaignFactory.create(site=ctx.other_site)
    return ctx.site.site_id, {"campaign": str(other.pk), "jwt": make_jwt()}


def inactive_campaign(ctx: Ctx) -> tuple[int, dict[str, str]]:
    ctx.campaigns.optional.is_active = False
    ctx.campaigns.optional.save()
    return ok(ctx)


def campaign_uses_saml(ctx: Ctx) -> tuple[int, dict[str, str]]:
    ctx.campaigns.optional.visitor_sso = "saml"
    ctx.campaigns.optional.save()
    return ok(ctx)


def visitor_sso_disabled(ctx: Ctx) -> tuple[int, dict[str, str]]:
    JwtSettings.objects.filter(pk=ctx.settings.pk).update(enabled=False)
    return ok(ctx)


def only_agent_sso(ctx: Ctx) -> tuple[int, dict[str, str]]:
    # The site has agent JWT settings only: they never verify a visitor.
    JwtSettings.objects.filter(pk=ctx.settings.pk).delete()
    jwt_settings_create(ctx.site, audience=Audience.AGENT, secret=AGENT_SECRET)
    return ctx.site.site_id, {
        "campaign": str(ctx.campaigns.optional.pk),
        "jwt": make_jwt(AGENT_SECRET),
    }


def agents_token(ctx: Ctx) -> tuple[int, dict[str, str]]:
    jwt_settings_create(ctx.site, audience=Audience.AGENT, secret=AGENT_SECRET)
    site_id, data = ok(ctx)
    data["jwt"] = make_jwt(AGENT_SECRET, email="alice@a.example")
    return site_id, data


def other_sites_token(ctx: Ctx) -> tuple[int, dict[str, str]]:
    site_id, data = ok(ctx)
    data["jwt"] = make_jwt(OTHER_SITE_SECRET)
    return site_id, data


def alg_none(ctx: Ctx) -> tuple[int, dict[str, str]]:
    site_id, data = ok(ctx)
    claims = jwt.decode(data["jwt"], options={"verify_signature": False})
    data["jwt"] = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    return site_id, data


def replayed(ctx: Ctx) -> tuple[int, dict[str, str]]:
    site_id, data = ok(ctx)
    Client().post(f"/sso/{site_id}/visitor/jwt/", data)
    Visitor.objects.all().delete()
    return site_id, data


def missing_required_mapping(ctx: Ctx) -> tuple[int, dict[str, str]]:
    FieldMapping.objects.create(
        site=ctx.site,
        audience=Audience.VISITOR,
        protocol="jwt",
        source="phone_number",
        target=Target.PHONE,
        type="text",
        required=True,
    )
    return ok(ctx)


def now() -> int:
    # Read when a case runs, not at collection: a long suite runs it minutes later.
    return int(time.time())


ATTACKS: list[tuple[str, Forgery, RefusalReason]] = [
    ("disabled site", disabled_site, RefusalReason.SITE_DISABLED),
    ("unknown site", unknown_site, RefusalReason.SITE_DISABLED),
    ("no campaign", no_campaign, RefusalReason.BAD_REQUEST),
    ("other site's campaign", other_sites_campaign, RefusalReason.BAD_REQUEST),
    ("inactive campaign", inactive_campaign, RefusalReason.BAD_REQUEST),
    ("campaign uses SAML", campaign_uses_saml, RefusalReason.NOT_CONFIGURED),
    ("visitor SSO disabled", visitor_sso_disabled, RefusalReason.NOT_CONFIGURED),
    ("only agent SSO", only_agent_sso, RefusalReason.NOT_CONFIGURED),
    (
        "no token",
        lambda c: (c.site.site_id, {"campaign": str(c.campaigns.optional.pk)}),
        RefusalReason.JWT_MISSING,
    ),
    (
        "garbage",
        lambda c: (ok(c)[0], {**ok(c)[1], "jwt": "not.a.jwt"}),
        RefusalReason.JWT_MALFORMED,
    ),
    ("oversized", lambda c: ok(c, pad="x" * 9000), RefusalReason.JWT_TOO_LARGE),
    ("agent's token", agents_token, RefusalReason.JWT_BAD_SIGNATURE),
    ("other site's key", other_sites_token, RefusalReason.JWT_BAD_SIGNATURE),
    ("alg none", alg_none, RefusalReason.JWT_BAD_ALGORITHM),
    ("expired", lambda c: ok(c, iat=now() - 400, exp=now() - 200), RefusalReason.JWT_EXPIRED),
    ("not yet valid", lambda c: ok(c, nbf=now() + 600), RefusalReason.JWT_NOT_YET_VALID),
    ("too old", lambda c: ok(c, iat=now() - 1000, exp=now() + 60), RefusalReason.JWT_TOO_OLD),
    ("no jti", lambda c: ok(c, jti=None), RefusalReason.JWT_MISSING_CLAIM),
    ("no exp", lambda c: ok(c, exp=None), RefusalReason.JWT_MISSING_CLAIM),
    ("no external_id nor sub", lambda c: ok(c, external_id=None), RefusalReason.JWT_MISSING_CLAIM),
    ("replayed", replayed, RefusalReason.REPLAY),
    ("required mapping missing", missing_required_mapping, RefusalReason.MAPPING_FAILED),
]


@pytest.fixture
def ctx(site: Site, other_site: Site, campaigns: Campaigns, visitor_sso: JwtSettings) -> Ctx:
    jwt_settings_create(other_site, audience=Audience.VISITOR, secret=OTHER_SITE_SECRET)
    return Ctx(site=site, other_site=other_site, campaigns=campaigns, settings=visitor_sso)


def reason_on_page(content: bytes) -> str:
    body = content.decode()
    marker = 'id="reason-code">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


@pytest.mark.parametrize("as_json", [False, True], ids=["popup", "json"])
@pytest.mark.parametrize(("name", "forgery", "reason"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_visitor_callback_refusals(
    client: Client, ctx: Ctx, name: str, forgery: Forgery, reason: RefusalReason, as_json: bool
) -> None:
    site_id, data = forgery(ctx)
    headers: dict[str, Any] = {"HTTP_ACCEPT": "application/json"} if as_json else {}

    response = client.post(f"/sso/{site_id}/visitor/jwt/", data, **headers)

    assert response.status_code == reason.status
    if as_json:
        assert response.json()["reason"] == reason.value
        assert "code" not in response.json()
    else:
        assert reason_on_page(response.content) == reason.value
    assert session_key_for(Audience.VISITOR) not in client.session
    assert session_key_for(Audience.AGENT) not in client.session
    assert not Visitor.objects.exists()
    event = LoginEvent.objects.filter(outcome="refused").latest("created_at")
    assert (event.reason, event.audience) == (reason.value, "visitor")
    assert data.get("jwt", "-")[:40] not in str(event.detail)


def test_a_visitor_token_never_signs_an_agent_in(
    client: Client, ctx: Ctx, agent_sso: JwtSettings
) -> None:
    token = make_jwt(email="alice@a.example")  # signed with the visitor secret
    response = client.post(f"/sso/{ctx.site.site_id}/agent/jwt/", {"jwt": token})
    assert response.status_code == 403
    assert reason_on_page(response.content) == RefusalReason.JWT_BAD_SIGNATURE
    assert session_key_for(Audience.AGENT) not in client.session


def test_the_popup_flow_signs_in_and_hands_a_code_to_the_window(client: Client, ctx: Ctx) -> None:
    campaign = ctx.campaigns.optional
    window = WindowClient(Client(), campaign)
    window.post("start/", {"survey": {"topic": "Boots"}})

    start = client.get(f"/sso/{ctx.site.site_id}/visitor/login/", {"campaign": campaign.pk})
    assert start.status_code == 302
    assert start["Cross-Origin-Opener-Policy"] == "unsafe-none"
    target = urlsplit(start["Location"])
    assert target.netloc == "login.shop.example"
    callback = parse_qs(target.query)["return_to"][0]
    assert (
        callback == f"http://testserver/sso/{ctx.site.site_id}/visitor/jwt/?campaign={campaign.pk}"
    )

    signed_in = client.get(
        urlsplit(callback).path, {"campaign": str(campaign.pk), "jwt": make_jwt()}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == f"/chat/{ctx.site.site_id}/{campaign.pk}/signed-in/"
    assert (
        client.session[session_key_for(Audience.VISITOR)]["principal"] == Visitor.objects.get().pk
    )

    page = client.get(signed_in["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    marker = 'id="handoff-code" type="application/json">"'
    code = body[body.index(marker) + len(marker) :].split('"', 1)[0]
    assert "opener.postMessage" in body

    redeemed = window.post("redeem/", {"code": code})
    assert redeemed.json()["visitor"] == {"name": "Vera Visitor"}
    assert Chat.objects.get().visitor == Visitor.objects.get()


def test_the_json_handoff_signs_in_with_no_redirect(client: Client, ctx: Ctx) -> None:
    campaign = ctx.campaigns.required
    window = WindowClient(Client(), campaign)
    response = client.post(
        f"/sso/{ctx.site.site_id}/visitor/jwt/",
        {"campaign": campaign.pk, "jwt": make_jwt(name="Hana Host")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "signed_in"
    assert response.json()["visitor"] == {"name": "Hana Host"}

    redeemed = window.post("redeem/", {"code": response.json()["code"]})
    started = window.post("start/", {})
    assert redeemed.status_code == started.status_code == 200
    visitor = Chat.objects.get().visitor
    assert visitor is not None
    assert visitor.name == "Hana Host"


def test_a_code_from_one_campaign_is_refused_by_another(client: Client, ctx: Ctx) -> None:
    response = client.post(
        f"/sso/{ctx.site.site_id}/visitor/jwt/",
        {"campaign": ctx.campaigns.required.pk, "jwt": make_jwt()},
        HTTP_ACCEPT="application/json",
    )
    other_window = WindowClient(Client(), ctx.campaigns.optional)
    refused = other_window.post("redeem/", {"code": response.json()["code"]})
    assert refused.status_code == 403
    assert refused.json() == {"error": "handoff_invalid"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({}, RefusalReason.BAD_REQUEST),
        ({"campaign": "abc"}, RefusalReason.BAD_REQUEST),
        ({"campaign": "other"}, RefusalReason.BAD_REQUEST),
        ({"campaign": "saml"}, RefusalReason.NOT_CONFIGURED),
        ({"campaign": "unconfigured"}, RefusalReason.NOT_CONFIGURED),
    ],
)
def test_visitor_login_start_refusals(
    client: Client, ctx: Ctx, query: dict[str, str], reason: RefusalReason
) -> None:
    if query.get("campaign") == "other":
        query = {"campaign": str(CampaignFactory.create(site=ctx.other_site).pk)}
    elif query.get("campaign") == "saml":
        ctx.campaigns.none.visitor_sso = "saml"
        ctx.campaigns.none.save()
        query = {"campaign": str(ctx.campaigns.none.pk)}
    elif query.get("campaign") == "unconfigured":
        JwtSettings.objects.filter(pk=ctx.settings.pk).delete()
        query = {"campaign": str(ctx.campaigns.none.pk)}
    response = client.get(f"/sso/{ctx.site.site_id}/visitor/login/", query)
    assert response.status_code == reason.status
    assert reason_on_page(response.content) == reason.value
    assert LoginEvent.objects.get().audience == "visitor"


def test_handoff_page_gives_no_code_for_another_sites_campaign(client: Client, ctx: Ctx) -> None:
    client.get(
        f"/sso/{ctx.site.site_id}/visitor/jwt/",
        {"campaign": str(ctx.campaigns.none.pk), "jwt": make_jwt()},
    )
    other = CampaignFactory.create(site=ctx.other_site)
    response = client.get(f"/chat/{ctx.other_site.site_id}/{other.pk}/signed-in/")
    assert response.status_code == 403
    assert "handoff-code" not in response.content.decode()
    assert (
        client.get(f"/chat/{ctx.site.site_id}/{ctx.campaigns.none.pk}/signed-in/").status_code
        == 200
    )
