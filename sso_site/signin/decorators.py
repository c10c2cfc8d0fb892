"""Guards for agent pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from access.selectors import agent_network_allowed
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from tenants.models import Audience
from tenants.services import client_ip

View = Callable[..., HttpResponse]


def agent_required(view: View) -> View:
    """Let only a signed-in agent through, and only to their own site's pages.

    A ``site_id`` URL argument must be the public ID of the site the session
    is bound to; a session of site A opening site B's page is refused with
    ``wrong_site`` (recorded at site A, whose agent tried).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agent = getattr(request, "agent", None)
        if agent is None:
            login = reverse("agent-login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        requested = kwargs.get("site_id")
        if requested is not None and requested != agent.site.site_id:
            refusal = SignInRefused(
                RefusalReason.WRONG_SITE,
                site=agent.site,
                audience=Audience.AGENT,
                subject=agent.email,
                detail={"requested_site_id": requested},
            )
            return render_refusal(request, refusal)
        if not agent_network_allowed(site=agent.site, address=client_ip(request)):
            # The site's network allow-list holds for every console request,
            # not only at sign-in: a session carried elsewhere stops working.
            refusal = SignInRefused(
                RefusalReason.IP_NOT_ALLOWED,
                site=agent.site,
                audience=Audience.AGENT,
                subject=agent.email,
            )
            return render_refusal(request, refusal)
        return view(request, *args, **kwargs)

    return wrapper
