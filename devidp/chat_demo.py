"""Visitor SSO demo on site 10001: the three campaigns (no sign-in, optional,
required) with a survey and a VIP routing rule, visitor JWT settings, the
customer's visitor login page that issues the JWT, and a demo shop page that
embeds the chat window with the loader script. A fourth campaign signs
visitors in over SAML instead: the development IdP answers the site's visitor
SP with the same demo visitors (``visitor_saml_attributes``).

The shop page is served by this same development server; open it on the
*other* loopback name than the gateway (``http://localhost:8000/dev-idp/shop/``
loads the window from ``http://127.0.0.1:8000``), so the window is embedded
cross-site as on a real customer's page. The visitor JWT secret is random,
generated at first use into the git-ignored ``var/devidp/`` folder.
"""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.models import Campaign
from chats.models import RoutingRule
from devidp.jwt_login import key_dir, post_token
from sso.jwt.models import Algorithm, JwtSettings
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from tenants.models import Agent, Audience, Protocol, Site

SITE_ID = 10001
SAML_CAMPAIGN = "Members via SAML (sign-in required)"
SAML_EMAIL_DOMAIN = "customer.example"
# What visitors see in the window's title, per internal campaign name.
DISPLAY_NAMES = {
    "Support (no sign-in)": "Ask the trail team",
    "Members (sign-in optional)": "Members' help desk",
    "Account help (sign-in required)": "Your account",
    SAML_CAMPAIGN: "Members' lounge",
}
SURVEY = "topic|What is your question about?\norder|Order number (if any)"
DEMO_VISITORS: dict[str, dict[str, Any]] = {
    "vera": {"external_id": "cust-1001", "name": "Vera Summit", "level": "VIP", "ltv": 5400},
    "milo": {"external_id": "cust-1002", "name": "Milo Trail", "level": "Member", "ltv": 310},
    "hana": {"external_id": "cust-1003", "name": "Hana Host", "level": "VIP", "ltv": 1200},
}


def visitor_secret() -> str:
    path: Path = key_dir() / "visitor-hs256.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def visitor_token(who: str) -> str:
    person = DEMO_VISITORS[who]
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "external_id": person["external_id"],
        "name": person["name"],
        "email": f"{who}@customer.example",
        "membership": {"level": person["level"], "since": "2021-04-01"},
        "ltv": person["ltv"],
    }
    return jwt.encode(claims, visitor_secret(), algorithm="HS256")


def visitor_saml_people() -> list[dict[str, str]]:
    """Return the demo visitors the development IdP offers a visitor SP."""
    return [
        {"email": f"{who}@{SAML_EMAIL_DOMAIN}", "name": person["name"]}
        for who, person in DEMO_VISITORS.items()
        if who != "hana"
    ]


def visitor_saml_attributes(email: str) -> dict[str, list[str]]:
    """Return the SAML attributes of the demo visitor ``email`` (just the
    email for anyone else); the demo mappings read them (mapping.demo).
    """
    who, _, domain = email.partition("@")
    person = DEMO_VISITORS.get(who) if domain == SAML_EMAIL_DOMAIN else None
    if person is None:
        return {"mail": [email]}
    return {
        "mail": [email],
        "displayName": [person["name"]],
        "membershipLevel": [person["level"]],
        "customerSince": ["2021-04-01"],
        "lifetimeValue": [str(person["ltv"])],
    }


def configure(*, site: Site, base_url: str) -> list[str]:
    """Give demo site 10001 visitor SSO and ready-made campaigns; return lines to print."""
    other = base_url.replace("127.0.0.1", "localhost")
    origins = site.allowed_origin_list
    missing = [o for o in (base_url, other) if o.lower() not in origins]
    if missing:  # the shop page is served from both loopback names
        site.allowed_origins = "\n".join([*origins, *missing])
        site.save(update_fields=["allowed_origins"])
    config = JwtSettings.objects.filter(site=site, audience=Audience.VISITOR).first()
    config = config or JwtSettings(site=site, audience=Audience.VISITOR)
    raw = visitor_secret()
    config.enabled = True
    config.login_url = f"{base_url}/dev-idp/visitor/login/"
    config.algorithm = Algorithm.HS256
    config.secret_encrypted = secret_encrypt(raw)
    config.secret_fingerprint = secret_fingerprint(raw)
    config.full_clean()
    config.save()
    # Vera staffs the VIP desk: the chats routing sends there come first for her.
    Agent.objects.for_site(site).filter(email="vera@demo.example").update(department="vip")
    Campaign.objects.get_or_create(
        site=site,
        name=SAML_CAMPAIGN,
        defaults={"signin_mode": Campaign.SignInMode.REQUIRED},
    )
    campaigns = Campaign.objects.for_site(site).order_by("pk")
    for campaign in campaigns:
        campaign.survey_fields = SURVEY
        campaign.display_name = campaign.display_name or DISPLAY_NAMES.get(campaign.name, "")
        campaign.accent_color = campaign.accent_color or "#2f6f3e"  # the shop's forest green
        campaign.visitor_sso = Protocol.SAML if campaign.name == SAML_CAMPAIGN else Protocol.JWT
        campaign.default_group = "general"
        campaign.save()
        RoutingRule.objects.update_or_create(
            site=site,
            campaign=campaign,
            field="membership_level",
            defaults={"operator": "equals", "value": "VIP", "group": "vip", "order": 1},
        )
    return [
        f"  Chat window:     {other}/dev-idp/shop/   (a demo shop embedding site {SITE_ID}'s",
        "                   campaigns; no sign-in, optional and required sign-in,",
        "                   and required sign-in over SAML via the development IdP;",
        "                   the page's own button signs in as Hana Host with a fresh JWT",
        '                   from its getToken callback, "Log out of the shop" signs out)',
    ]


def _other_loopback(request: HttpRequest) -> str:
    host = request.get_host()
    if host.startswith("localhost"):
        return f"{request.scheme}://{host.replace('localhost', '127.0.0.1', 1)}"
    return f"{request.scheme}://{host.replace('127.0.0.1', 'localhost', 1)}"


@never_cache
def shop(request: HttpRequest) -> HttpResponse:
    """A customer's page with the loader script pasted in."""
    site = Site.objects.filter(site_id=SITE_ID).first()
    campaigns = list(Campaign.objects.for_site(site).order_by("pk")) if site else []
    chosen = request.GET.get("campaign", "")
    campaign = next(
        (c for c in campaigns if str(c.pk) == chosen), campaigns[0] if campaigns else None
    )
    context = {
        "campaigns": campaigns,
        "campaign": campaign,
        "gateway": _other_loopback(request),
        "site_id": SITE_ID,
    }
    response = render(request, "devidp/shop.html", context)
    # Django's default COOP (same-origin) would cut the sign-in popup off
    # from the chat window; a host page must allow its popups their opener.
    response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response


@never_cache
@csrf_exempt
@require_POST
def shop_token(request: HttpRequest) -> JsonResponse:
    """The shop's backend: a fresh visitor JWT for its logged-in user (the
    demo's user is always Hana Host), minted just before the window uses it.
    Demo only, like the whole development IdP: anyone can be anyone here.
    """
    return JsonResponse({"token": visitor_token("hana")})


@never_cache
def visitor_login(request: HttpRequest) -> HttpResponse:
    """The customer's login page for visitors: pick a person, get a JWT back."""
    return_to = request.GET.get("return_to", "")
    parts = urlsplit(return_to)
    try:
        match = resolve(parts.path)
    except Resolver404:
        match = None
    port = request.get_port()
    if (
        match is None
        or match.view_name != "sso:visitor-jwt"
        or parts.netloc not in {f"127.0.0.1:{port}", f"localhost:{port}"}
    ):
        return HttpResponseBadRequest("return_to must be this service's visitor JWT callback.")
    who = request.POST.get("who", "")
    response: HttpResponse
    if request.method == "POST" and who in DEMO_VISITORS:
        response = post_token(request, return_to=return_to, token=visitor_token(who))
    else:
        people = [(key, person) for key, person in DEMO_VISITORS.items() if key != "hana"]
        response = render(request, "devidp/visitor_login.html", {"people": people})
    # A page of the sign-in popup must let it keep its opener (the chat window).
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
