"""Attach the signed-in agent (or None) to every request as ``request.agent``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import render_refusal
from sso_site.signin.requests import SiteRequest
from sso_site.signin.session import agent_binding_refusal, principal_from_session
from tenants.models import Audience


class SitePrincipalMiddleware:
    """Resolve the session's agent binding once per request.

    A session without a binding costs no query. A binding that is no longer
    valid (agent or site deactivated, lifetime over) is removed, so it is
    checked afresh on every request rather than trusted from sign-in time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: SiteRequest) -> HttpResponse:
        key = session_key_for(Audience.AGENT)
        agent = None
        if key in request.session:
            agent = principal_from_session(request, audience=Audience.AGENT)
            if agent is None:
                # Deprovisioned (deactivated or deleted): refused once, with
                # the reason, rather than a silent trip to the login page.
                refusal = agent_binding_refusal(request.session.pop(key))
                if refusal is not None:
                    response = render_refusal(request, refusal)
                    return response.render() if isinstance(response, TemplateResponse) else response
        request.agent = agent
        return self.get_response(request)
