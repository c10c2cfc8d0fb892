"""Where events come from: each written in the transaction of its cause."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from chats.models import SignInRequest
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Agent, LoginEvent, Site
from tests.conftest import identity_for, session_request
from tests.factories import AgentFactory, ChatFactory
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import endpoint_create


@pytest.fixture
def endpoint(site: Site):
    return endpoint_create(site=site, url="https://hooks.example/in")[0]


def test_agent_sign_in_writes_agent_signed_in_with_a_pending_delivery(
    agent: Agent, endpoint
) -> None:
    sign_in(session_request(), identity=identity_for(agent))

    event = WebhookEvent.objects.get(kind="agent.signed_in")
    assert event.site == agent.site
    assert event.payload == {"subject": agent.email, "protocol": "jwt", "reference": "test-jti"}
    assert WebhookDelivery.objects.get(event=event).status == "pending"


def test_refused_sign_in_writes_sign_in_refused_with_the_code_and_no_subject(
    agent: Agent, endpoint
) -> None:
    request = session_request()
    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=identity_for(agent, subject="nobody@a.example"))
    response = render_refusal(request, refused.value)

    assert response.status_code == 403
    assert refused.value.reason == RefusalReason.UNKNOWN_AGENT
    assert Session.objects.count() == 0
    assert LoginEvent.objects.get().reason == RefusalReason.UNKNOWN_AGENT
    event = WebhookEvent.objects.get()
    assert event.kind == "sign_in.refused"
    assert event.payload["reason"] == RefusalReason.UNKNOWN_AGENT.value
    assert "nobody" not in str(event.payload)


def test_agent_provisioned_and_deprovisioned(site: Site, endpoint) -> None:
    agent = AgentFactory.create(site=site, email="new@a.example")
    agent.is_active = False
    agent.save()
    agent.name = "Renamed"
    agent.save()  # no event: still inactive

    kinds = list(WebhookEvent.objects.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["agent.provisioned", "agent.deprovisioned"]


def test_sign_in_request_sent(site: Site, agent: Agent, endpoint) -> None:
    chat = ChatFactory.create(site=site)
    SignInRequest.objects.create(site=site, chat=chat, agent=agent)

    event = WebhookEvent.objects.get(kind="sign_in_request.sent")
    assert event.payload == {"chat_id": chat.pk, "agent_id": agent.pk}


def test_other_sites_events_go_to_their_own_endpoints_only(
    agent: Agent, other_agent: Agent, endpoint
) -> None:
    sign_in(session_request(), identity=identity_for(other_agent))

    assert not WebhookEvent.objects.exists()
