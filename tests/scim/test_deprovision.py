"""Deprovisioning ends access: the agent's open session is refused on its
next request, with a reason code and an audit row, and no sign-in works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason, SignInRefused
from sso_site.signin.session import sign_in
from tenants.models import Agent, Audience, LoginEvent, Protocol
from tenants.services import agent_deactivate
from tests.conftest import identity_for, session_request
from tests.scim.conftest import ScimSession, new_user

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DEACTIVATE: dict[str, Any] = {
    "schemas": [PATCH],
    "Operations": [{"op": "replace", "path": "active", "value": False}],
}


def assert_refused_once(console: Client, agent: Agent, reason: RefusalReason) -> None:
    """The next request is refused with ``reason``; the one after is signed out."""
    response = console.get("/console/")
    assert response.status_code == reason.status
    assert reason.value in response.content.decode()
    event = LoginEvent.objects.filter(outcome=LoginEvent.Outcome.REFUSED).get()
    assert (event.site, event.reason, event.audience) == (agent.site, reason.value, "agent")
    assert session_key_for(Audience.AGENT) not in console.session
    again = console.get("/console/")
    assert again.status_code == 302
    assert "/agent/login/" in again["Location"]


def scim_provisioned(scim: ScimSession) -> Agent:
    user = scim.post("/Users", json=new_user()).json()
    return Agent.objects.get(pk=user["id"])


@pytest.mark.django_db(transaction=True)
def test_scim_deactivation_refuses_the_open_session(
    scim: ScimSession, signed_in_client: Callable[[Agent], Client]
) -> None:
    agent = scim_provisioned(scim)
    console = signed_in_client(agent)
    assert console.get("/console/").status_code == 200
    assert scim.patch(f"/Users/{agent.pk}", json=DEACTIVATE).status_code == 200
    assert_refused_once(console, agent, RefusalReason.AGENT_INACTIVE)


@pytest.mark.django_db(transaction=True)
def test_scim_delete_refuses_the_open_session(
    scim: ScimSession, signed_in_client: Callable[[Agent], Client]
) -> None:
    agent = scim_provisioned(scim)
    console = signed_in_client(agent)
    assert console.get("/console/").status_code == 200
    assert scim.delete(f"/Users/{agent.pk}").status_code == 204
    assert_refused_once(console, agent, RefusalReason.UNKNOWN_AGENT)


@pytest.mark.django_db
def test_admin_or_api_deactivation_refuses_the_open_session(
    agent: Agent, signed_in_client: Callable[[Agent], Client]
) -> None:
    # The admin action and the API both call this service.
    console = signed_in_client(agent)
    assert console.get("/console/").status_code == 200
    agent_deactivate(site=agent.site, agent=agent)
    assert_refused_once(console, agent, RefusalReason.AGENT_INACTIVE)


@pytest.mark.django_db
@pytest.mark.parametrize("protocol", [Protocol.SAML, Protocol.JWT])
def test_deactivated_agent_cannot_sign_in_by_any_protocol(agent: Agent, protocol: Any) -> None:
    agent_deactivate(site=agent.site, agent=agent)
    request = session_request()
    with pytest.raises(SignInRefused) as refused:
        sign_in(request, identity=identity_for(agent, protocol=protocol))
    assert refused.value.reason == RefusalReason.AGENT_INACTIVE
    assert session_key_for(Audience.AGENT) not in request.session


@pytest.mark.django_db
def test_expired_session_is_not_called_a_deprovisioning(
    agent: Agent, signed_in_client: Callable[[Agent], Client]
) -> None:
    console = signed_in_client(agent)
    agent.site.session_lifetime = 0
    agent.site.save()
    response = console.get("/console/")
    assert response.status_code == 302
    assert not LoginEvent.objects.filter(outcome=LoginEvent.Outcome.REFUSED).exists()
