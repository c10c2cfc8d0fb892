"""sign_in() / sign_out(): the one session layer."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.template.response import TemplateResponse

from campaigns.models import Visitor
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import principal_from_session, sign_in, sign_out
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.conftest import identity_for, session_request
from tests.factories import AgentFactory

AGENT_KEY = session_key_for(Audience.AGENT)
VISITOR_KEY = session_key_for(Audience.VISITOR)


def test_sign_in_rotates_the_session_key(agent: Agent) -> None:
    request = session_request()
    request.session["anonymous_note"] = "kept"
    request.session.save()
    before = request.session.session_key

    result = sign_in(request, identity=identity_for(agent))

    request.session.save()
    assert request.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()
    assert request.session["anonymous_note"] == "kept"
    assert request.session[AGENT_KEY]["principal"] == agent.pk
    assert request.session[AGENT_KEY]["site"] == agent.site.pk
    assert result.principal == agent
    assert result.redirect_to == "/console/"


def test_sign_in_records_success_and_applies_site_lifetime(agent: Agent) -> None:
    agent.site.session_lifetime = 900
    agent.site.save()
    request = session_request()

    sign_in(request, identity=identity_for(agent))

    assert request.session.get_expiry_age() == 900
    event = LoginEvent.objects.get()
    assert (event.site, event.outcome, event.subject) == (agent.site, "success", agent.email)
    assert event.client_ip == "203.0.113.7"
    assert event.detail == {"reference": "test-jti", "principal": agent.pk, "matched": agent.email}
    agent.refresh_from_db()
    assert agent.last_sign_in_at is not None


def test_sign_in_as_someone_else_flushes_the_previous_session(agent: Agent) -> None:
    colleague = AgentFactory.create(site=agent.site)
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session["draft"] = "of the first agent"

    sign_in(request, identity=identity_for(colleague))

    assert "draft" not in request.session
    assert request.session[AGENT_KEY]["principal"] == colleague.pk


def test_email_matches_case_insensitively(agent: Agent) -> None:
    request = session_request()
    result = sign_in(request, identity=identity_for(agent, subject=agent.email.upper()))
    assert result.principal == agent


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unknown", RefusalReason.UNKNOWN_AGENT),
        ("inactive_agent", RefusalReason.AGENT_INACTIVE),
        ("disabled_site", RefusalReason.SITE_DISABLED),
        ("foreign_return_to", RefusalReason.UNSAFE_REDIRECT),
    ],
)
def test_refused_sign_in_creates_no_session_and_records_its_reason(
    agent: Agent, change: str, reason: RefusalReason
) -> None:
    identity = identity_for(agent)
    return_to = None
    if change == "unknown":
        identity = identity_for(agent, subject="nobody@a.example")
    elif change == "inactive_agent":
        Agent.objects.filter(pk=agent.pk).update(is_active=False)
    elif change == "disabled_site":
        Site.objects.filter(pk=agent.site.pk).update(is_active=False)
        agent.site.refresh_from_db()
        identity = identity_for(agent)
    else:
        return_to = "https://evil.example/steal"
    request = session_request()

    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=identity, return_to=return_to)
    response = render_refusal(request, refused.value)

    assert refused.value.reason == reason
    assert isinstance(response, TemplateResponse)
    assert response.status_code == 403
    assert f'id="reason-code">{reason}<' in response.rendered_content
    assert request.session.session_key is None
    assert not request.session.modified
    assert Session.objects.count() == 0
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason, event.site_id) == ("refused", reason, agent.site.pk)
    assert not LoginEvent.objects.filter(outcome="success").exists()


def test_refusal_of_a_signed_in_session_leaves_it_unchanged(agent: Agent) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session.save()
    key, data = request.session.session_key, dict(request.session.items())

    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=identity_for(agent, subject="nobody@a.example"))

    assert refused.value.reason == RefusalReason.UNKNOWN_AGENT

    assert request.session.session_key == key
    assert dict(request.session.items()) == data


def test_a_visitor_identity_binds_only_the_visitor_key(agent: Agent) -> None:
    request = session_request()
    result = sign_in(request, identity=identity_for(agent, audience=Audience.VISITOR, claims={}))
    assert AGENT_KEY not in request.session
    assert request.session[VISITOR_KEY]["principal"] == result.principal.pk
    assert isinstance(result.principal, Visitor)
    assert result.principal.external_id == agent.email
    assert principal_from_session(request, audience=Audience.AGENT) is None
    assert principal_from_session(request, audience=Audience.VISITOR) == result.principal


def test_binding_expires_after_the_site_lifetime(agent: Agent) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    assert principal_from_session(request, audience=Audience.AGENT) == agent

    request.session[AGENT_KEY] = {
        **request.session[AGENT_KEY],
        "at": int(time.time()) - agent.site.session_lifetime - 1,
    }

    assert principal_from_session(request, audience=Audience.AGENT) is None


def test_binding_is_void_once_the_agent_is_deactivated(agent: Agent) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert principal_from_session(request, audience=Audience.AGENT) is None


def test_sign_out_flushes_the_session_and_is_audited(agent: Agent) -> None:
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session.save()
    key = request.session.session_key

    assert sign_out(request, audience=Audience.AGENT) == agent.site

    assert AGENT_KEY not in request.session
    assert not Session.objects.filter(session_key=key).exists()
    assert LoginEvent.objects.filter(outcome="signed_out", site=agent.site).count() == 1


def test_just_in_time_creation_makes_an_agent_only_when_asked(site: Site) -> None:
    site.jit_domains = "a.example"
    site.save()
    identity = identity_for(AgentFactory.build(site=site, email="new@a.example"))
    with pytest.raises(SignInRefused) as refused:
        sign_in(session_request(), identity=identity)
    assert refused.value.reason == RefusalReason.UNKNOWN_AGENT

    jit = identity_for(
        AgentFactory.build(site=site, email="new@a.example"),
        jit_role=Agent.Role.SUPERVISOR,
        claims={"name": "New Person"},
    )
    result = sign_in(session_request(), identity=jit)

    created = Agent.objects.get(site=site, email="new@a.example")
    assert result.principal == created
    assert (created.role, created.name) == ("supervisor", "New Person")


def test_audit_log_keeps_no_control_characters_from_untrusted_input(agent: Agent) -> None:
    request = session_request()
    request.META["HTTP_USER_AGENT"] = "evil\x00agent\r\n"
    with pytest.raises(SignInRefused) as refused:
        sign_in(
            request,
            identity=identity_for(agent, subject="no\x00body@a.example", reference="j\x00ti"),
        )
    render_refusal(request, refused.value)

    assert refused.value.reason == RefusalReason.BAD_REQUEST
    event = LoginEvent.objects.get()
    assert event.subject == "nobody@a.example"
    assert event.user_agent == "evilagent"
    assert event.detail == {"reference": "jti"}
