"""Typed requests: what our middleware (and djangosaml2's) add to a request.

Django's ``HttpRequest`` knows none of these attributes; views annotate
their request with these classes instead of ignoring the type checker.
They are annotations only: Django still passes its own request object.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from tenants.models import Agent


class SiteRequest(HttpRequest):
    """Any request after the middleware ran."""

    # SitePrincipalMiddleware: the signed-in agent of this session, if any.
    agent: Agent | None
    # djangosaml2's SamlSessionMiddleware: its own session (cookie saml_session).
    saml_session: SessionBase


class AgentRequest(SiteRequest):
    """A request ``agent_required`` let through: an agent is signed in."""

    agent: Agent
