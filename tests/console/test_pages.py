"""Agent pages over HTTP: the site-ID form, the console guard, error pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site

SignedInClient = Callable[[Agent], Client]


def reason_on_page(content: bytes) -> str:
    text = content.decode()
    marker = 'id="reason-code">'
    start = text.index(marker) + len(marker)
    return text[start : text.index("<", start)]


def test_console_redirects_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/agent/login/?next=%2Fconsole%2F"


def test_console_shows_the_signed_in_agent(agent: Agent, signed_in_client: SignedInClient) -> None:
    response = signed_in_client(agent).get("/console/")
    assert response.status_code == 200
    assert agent.email in response.content.decode()
    assert agent.site.name in response.content.decode()


def test_session_of_site_a_is_refused_on_site_b_console(
    agent: Agent, other_site: Site, signed_in_client: SignedInClient
) -> None:
    client = signed_in_client(agent)
    assert client.get(f"/console/{agent.site.site_id}/").status_code == 200

    response = client.get(f"/console/{other_site.site_id}/")

    assert response.status_code == 403
    assert reason_on_page(response.content) == RefusalReason.WRONG_SITE
    assert other_site.name not in response.content.decode()
    event = LoginEvent.objects.get(reason=RefusalReason.WRONG_SITE)
    assert event.site == agent.site
    assert event.detail == {"requested_site_id": other_site.site_id}


def test_deactivating_the_agent_ends_the_session_on_the_next_request(
    agent: Agent, signed_in_client: SignedInClient
) -> None:
    client = signed_in_client(agent)
    Agent.objects.filter(pk=agent.pk).update(is_active=False)

    response = client.get("/console/")

    # Refused once with the reason (issue 13), then signed out.
    assert response.status_code == RefusalReason.AGENT_INACTIVE.status
    assert LoginEvent.objects.filter(reason=RefusalReason.AGENT_INACTIVE).count() == 1
    session = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert session_key_for(Audience.AGENT) not in session.get_decoded()


def test_disabling_the_site_ends_its_sessions(
    agent: Agent, signed_in_client: SignedInClient
) -> None:
    client = signed_in_client(agent)
    Site.objects.filter(pk=agent.site.pk).update(is_active=False)
    assert client.get("/console/").status_code == 302


def test_logout_ends_the_session(agent: Agent, signed_in_client: SignedInClient) -> None:
    client = signed_in_client(agent)
    assert client.get("/logout-is-post-only/").status_code == 404
    shown = client.get("/agent/logout/")
    assert shown.status_code == 200
    assert b'id="sign-out"' in shown.content
    assert b"csrfmiddlewaretoken" in shown.content
    assert client.get("/console/").status_code == 200  # a GET signs nobody out

    response = client.post("/agent/logout/")

    assert response.status_code == 302
    assert client.get("/console/").status_code == 302
    assert LoginEvent.objects.filter(outcome="signed_out", site=agent.site).exists()


def test_site_id_form_remembers_the_site_and_starts_its_sso(client: Client, site: Site) -> None:
    response = client.post("/agent/login/", {"site_id": site.site_id})

    assert response.status_code == 302
    assert response["Location"] == f"/sso/{site.site_id}/agent/login/"
    cookie = response.cookies[settings.SSO_SITE_COOKIE]
    assert cookie.value == str(site.site_id)
    assert cookie["httponly"]
    assert int(cookie["max-age"]) >= 180 * 24 * 3600

    page = client.get("/agent/login/").content.decode()
    assert f'<strong id="remembered-site">{site.site_id}</strong>' in page
    assert f'href="/sso/{site.site_id}/agent/login/"' in page
    assert 'name="site_id"' not in client.get("/agent/login/").content.decode()
    assert 'name="site_id"' in client.get("/agent/login/?change=1").content.decode()


@pytest.mark.parametrize("value", ["", "abc", "12", "-5", "999999999"])
def test_site_id_form_rejects_what_is_not_a_site_id(client: Client, value: str) -> None:
    response = client.post("/agent/login/", {"site_id": value})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert settings.SSO_SITE_COOKIE not in response.cookies


def test_unknown_and_disabled_sites_get_the_same_page(client: Client, site: Site) -> None:
    Site.objects.filter(pk=site.pk).update(is_active=False)

    unknown = client.get("/sso/99999/agent/login/")
    disabled = client.get(f"/sso/{site.site_id}/agent/login/")

    assert unknown.status_code == disabled.status_code == 403
    assert reason_on_page(unknown.content) == reason_on_page(disabled.content)
    assert reason_on_page(unknown.content) == RefusalReason.SITE_DISABLED
    assert site.name not in disabled.content.decode()
    assert Session.objects.count() == 0
    events = LoginEvent.objects.order_by("created_at")
    assert [(e.site_id, e.reason) for e in events] == [
        (None, "site_disabled"),
        (site.pk, "site_disabled"),
    ]


def test_foreign_next_is_refused_before_sso_starts(client: Client, site: Site) -> None:
    response = client.get(f"/sso/{site.site_id}/agent/login/?next=https://evil.example/")
    assert response.status_code == 403
    assert reason_on_page(response.content) == RefusalReason.UNSAFE_REDIRECT


def test_refusal_page_is_not_cached_and_shows_no_traceback(client: Client, db: None) -> None:
    response = client.get("/sso/99999/agent/login/")
    assert "no-store" in response["Cache-Control"]
    assert "Traceback" not in response.content.decode()


def test_custom_404_page(client: Client, db: None) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_custom_500_page_without_traceback(db: None) -> None:
    from sso_site.views import server_error

    response = server_error(None)  # type: ignore[arg-type]
    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong" in content
    assert "Traceback" not in content
