"""Forged single logout: every row is refused with its own reason code,
changes nothing (the session stays, no sign-out row), writes one refusal
row, and never answers 500.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import Issuer
from saml2.samlp import LogoutRequest
from saml2.xmldsig import SIG_RSA_SHA1

from devidp.idp import DevIdp
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.saml import (
    ResponseFactory,
    acs_post,
    idp_logout_request,
    idp_server,
    redirect_location,
    saml_settings_create,
    saml_subject_session_index,
    sp_urls,
)

R = RefusalReason
BOMB_BYTES = 150 * 1024 * 1024  # inflates to 150 MiB; about 150 KB deflated


@pytest.fixture(scope="module")
def bomb() -> str:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = b"<" + b"a" * (1024 * 1024 - 1)
    data = b"".join(deflater.compress(chunk) for _ in range(BOMB_BYTES // len(chunk)))
    return base64.b64encode(data + deflater.flush()).decode()


def _b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def _instant(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _attr(name: str, value: str) -> Callable[[str], str]:
    return lambda xml: re.sub(f'{name}="[^"]*"', f'{name}="{value}"', xml, count=1)


Request = tuple[str, str, dict[str, str]]  # method, URL, POST data


def _case(name: str, ctx: dict[str, Any]) -> Request:
    """Build the forged message ``name`` for the signed-in agent in ``ctx``."""
    site, agent, idps = ctx["site"], ctx["agent"], ctx["idps"]
    sls = sp_urls(site)["sls"]
    own, rogue, other = idps["own"], idps["rogue"], idps["other"]
    good: dict[str, Any] = {"email": agent.email, "session_indexes": [ctx["index"]]}

    def get(server: Any, xml: str, **kwargs: Any) -> Request:
        return "GET", redirect_location(server, xml, site, **kwargs), {}

    def post(xml: str) -> Request:
        return "POST", sls, {"SAMLRequest": _b64(xml)}

    match name:
        case "unsigned, GET (an <img> on any page)":
            return get(own, idp_logout_request(own, site, **good), sign=False)
        case "unsigned, POST":
            return post(idp_logout_request(own, site, **good))
        case "wrong key, GET":
            return get(rogue, idp_logout_request(rogue, site, **good))
        case "wrong key, POST":
            return post(idp_logout_request(rogue, site, **good, sign_xml=True))
        case "other agent's NameID":
            return get(own, idp_logout_request(own, site, email="bob@a.example"))
        case "other SessionIndex":
            xml = idp_logout_request(own, site, email=agent.email, session_indexes=["_other"])
            return get(own, xml)
        case "another site's IdP, signed":
            return get(other, idp_logout_request(other, site, **good))
        case "another site's IdP, unsigned":
            return post(idp_logout_request(other, site, **good))
        case "SHA-1 query signature":
            return get(own, idp_logout_request(own, site, **good), sigalg=SIG_RSA_SHA1)
        case "other Destination":
            edit = _attr("Destination", "https://elsewhere.example/sls")
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "issued an hour ago":
            edit = _attr("IssueInstant", _instant(-dt.timedelta(hours=1)))
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "issued in the future":
            edit = _attr("IssueInstant", _instant(dt.timedelta(hours=1)))
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "IssueInstant not a date":
            edit = _attr("IssueInstant", "yesterday")
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "IssueInstant with a time zone":
            edit = _attr("IssueInstant", "2026-12-01T17:00:00+02:00")
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "no IssueInstant":
            edit = lambda xml: re.sub(r' IssueInstant="[^"]*"', "", xml, count=1)  # noqa: E731
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "Version 1.1":
            edit = _attr("Version", "1.1")
            return get(own, idp_logout_request(own, site, **good, edit=edit))
        case "not SAML, GET":
            return "GET", f"{sls}?{urlencode({'SAMLRequest': 'hello'})}", {}
        case "not SAML, POST":
            return "POST", sls, {"SAMLRequest": _b64("<html><body>hi</body></html>")}
        case "not SAML, SAMLResponse":
            return "POST", sls, {"SAMLResponse": "%%%not-base64%%%"}
        case "an AuthnRequest, signed":
            xml = idp_logout_request(own, site, **good).replace("LogoutRequest", "AuthnRequest")
            return get(own, xml)
        case "DOCTYPE":
            return post('<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
        case "deflate bomb, GET":
            return "GET", f"{sls}?{urlencode({'SAMLRequest': ctx['bomb']})}", {}
        case "deflate bomb, POST":
            return "POST", sls, {"SAMLRequest": ctx["bomb"]}
        case "3 MB POST":
            return "POST", sls, {"SAMLRequest": "A" * (3 * 1024 * 1024)}
    raise AssertionError(name)


CASES = [
    ("unsigned, GET (an <img> on any page)", R.SAML_LOGOUT_UNSIGNED),
    ("unsigned, POST", R.SAML_LOGOUT_UNSIGNED),
    ("wrong key, GET", R.SAML_LOGOUT_BAD_SIGNATURE),
    ("wrong key, POST", R.SAML_LOGOUT_BAD_SIGNATURE),
    ("other agent's NameID", R.SAML_LOGOUT_WRONG_SUBJECT),
    ("other SessionIndex", R.SAML_LOGOUT_WRONG_SESSION),
    ("another site's IdP, signed", R.SAML_LOGOUT_WRONG_ISSUER),
    ("another site's IdP, unsigned", R.SAML_LOGOUT_WRONG_ISSUER),
    ("SHA-1 query signature", R.SAML_WEAK_ALGORITHM),
    ("other Destination", R.SAML_WRONG_RECIPIENT),
    ("issued an hour ago", R.SAML_EXPIRED),
    ("issued in the future", R.SAML_NOT_YET_VALID),
    ("IssueInstant not a date", R.SAML_MALFORMED),
    ("IssueInstant with a time zone", R.SAML_MALFORMED),
    ("no IssueInstant", R.SAML_MALFORMED),
    ("Version 1.1", R.SAML_MALFORMED),
    ("not SAML, GET", R.SAML_MALFORMED),
    ("not SAML, POST", R.SAML_MALFORMED),
    ("not SAML, SAMLResponse", R.SAML_MALFORMED),
    ("an AuthnRequest, signed", R.SAML_MALFORMED),
    ("DOCTYPE", R.SAML_MALFORMED),
    ("deflate bomb, GET", R.SAML_MALFORMED),
    ("deflate bomb, POST", R.SAML_MALFORMED),
    ("3 MB POST", R.SAML_MALFORMED),
]


def _send(client: Client, request: Request) -> Any:
    method, url, data = request
    return client.get(url) if method == "GET" else client.post(url, data)


def _assert_refused(client: Client, response: Any, reason: RefusalReason, before: int) -> None:
    assert response.status_code == reason.status
    assert f'id="reason-code">{reason}<' in response.content.decode()
    assert session_key_for(Audience.AGENT) in client.session
    events = list(LoginEvent.objects.order_by("pk")[before:])
    assert [(e.outcome, e.reason) for e in events] == [(LoginEvent.Outcome.REFUSED, reason.value)]


@pytest.mark.parametrize(("name", "reason"), CASES, ids=[c[0] for c in CASES])
def test_forged_logout_is_refused_and_changes_nothing(
    client: Client,
    saml_site: Site,
    saml_other_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    idp_b: DevIdp,
    rogue_idp: DevIdp,
    saml_response_factory: ResponseFactory,
    bomb: str,
    caplog: pytest.LogCaptureFixture,
    name: str,
    reason: RefusalReason,
) -> None:
    assert acs_post(client, saml_site, saml_response_factory(saml_site)).status_code == 302
    ctx = {
        "site": saml_site,
        "agent": agent,
        "index": saml_subject_session_index(client, saml_site),
        "bomb": bomb,
        "idps": {
            "own": idp_server(client, saml_site, idp_a),
            "rogue": idp_server(client, saml_site, rogue_idp),
            "other": idp_server(client, saml_site, idp_b),
        },
    }
    request = _case(name, ctx)
    before = LoginEvent.objects.count()
    started = time.monotonic()

    response = _send(client, request)

    assert time.monotonic() - started < 2
    _assert_refused(client, response, reason, before)
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert agent.email not in logged
    assert "LogoutRequest" not in logged


def test_replayed_logout_request_is_refused(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    assert acs_post(client, saml_site, saml_response_factory(saml_site)).status_code == 302
    server = idp_server(client, saml_site, idp_a)
    location = redirect_location(
        server, idp_logout_request(server, saml_site, email=agent.email), saml_site
    )
    assert client.get(location).status_code == 302  # the real one: signed out
    assert acs_post(client, saml_site, saml_response_factory(saml_site)).status_code == 302
    before = LoginEvent.objects.count()

    response = client.get(location)  # captured and sent again

    _assert_refused(client, response, R.REPLAY, before)


def test_logout_request_for_another_sites_session_is_refused(
    client: Client,
    saml_site: Site,
    saml_other_site: Site,
    agent: Agent,
    idp_b: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    """Site B's IdP, signing properly for site B's SLS, cannot end a session
    that belongs to site A.
    """
    assert acs_post(client, saml_site, saml_response_factory(saml_site)).status_code == 302
    server = idp_server(client, saml_other_site, idp_b)
    xml = idp_logout_request(server, saml_other_site, email=agent.email)
    before = LoginEvent.objects.count()

    response = client.get(redirect_location(server, xml, saml_other_site))

    _assert_refused(client, response, R.WRONG_SITE, before)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"SAMLRequest": "hello"}, R.SAML_MALFORMED),
        ({"SAMLResponse": _b64("<samlp:LogoutResponse/>")}, R.SAML_MALFORMED),
        ({}, R.SAML_MALFORMED),
    ],
)
def test_visitor_sls_refuses_malformed_messages(
    client: Client, site: Site, idp_a: DevIdp, data: dict[str, str], reason: RefusalReason
) -> None:
    saml_settings_create(site, idp_a, audience=Audience.VISITOR)
    url = reverse("sso:visitor-saml-sls", kwargs={"site_id": site.site_id})

    response = client.post(url, data)

    assert response.status_code == reason.status
    assert f'id="reason-code">{reason}<' in response.content.decode()
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason, event.audience) == (
        LoginEvent.Outcome.REFUSED,
        reason.value,
        Audience.VISITOR,
    )


def test_unsolicited_logout_response_is_refused(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    assert acs_post(client, saml_site, saml_response_factory(saml_site)).status_code == 302
    server = idp_server(client, saml_site, idp_a)
    never_sent = LogoutRequest(
        id="_never_sent_by_this_browser",
        version="2.0",
        issue_instant=_instant(dt.timedelta()),
        issuer=Issuer(text=sp_urls(saml_site)["metadata"]),
    )
    answer = server.create_logout_response(never_sent, [BINDING_HTTP_REDIRECT])
    before = LoginEvent.objects.count()

    response = client.get(redirect_location(server, str(answer), saml_site, response=True))

    _assert_refused(client, response, R.SAML_LOGOUT_UNSOLICITED, before)
