"""Tenant services: the agent touched at sign-in (one UPDATE ... RETURNING)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.identity_keys import email_key
from tenants.models import Agent, Site
from tenants.services import agent_sign_in_touch
from tests.factories import AgentFactory


def test_the_active_agent_is_touched_and_returned_in_one_statement(agent: Agent) -> None:
    at = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        touched = agent_sign_in_touch(site=agent.site, key=email_key(agent.email), at=at)
    assert len(queries) == 1
    assert touched is not None
    assert touched.pk == agent.pk
    assert touched.email == agent.email
    assert touched.role == agent.role
    assert touched.last_sign_in_at == at
    assert touched.site == agent.site
    agent.refresh_from_db()
    assert agent.last_sign_in_at == at


def test_an_inactive_agent_is_not_touched(agent: Agent) -> None:
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    at = timezone.now()
    assert agent_sign_in_touch(site=agent.site, key=email_key(agent.email), at=at) is None
    agent.refresh_from_db()
    assert agent.last_sign_in_at is None


def test_another_sites_agent_is_never_touched(agent: Agent, other_site: Site) -> None:
    """Tenant isolation: the same email at another site is another agent."""
    twin = AgentFactory.create(site=other_site, email=agent.email)
    at = timezone.now()
    touched = agent_sign_in_touch(site=other_site, key=email_key(agent.email), at=at)
    assert touched is not None
    assert touched.pk == twin.pk
    agent.refresh_from_db()
    assert agent.last_sign_in_at is None
    assert agent_sign_in_touch(site=other_site, key="nobody@a.example", at=at) is None
