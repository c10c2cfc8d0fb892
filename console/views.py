"""Agent-facing pages: the site-ID form, sign-out and the console."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chats.selectors import chats_open
from console.chat_views import stream_allowed, stream_on
from console.forms import SiteIdForm
from sso.starters import sign_in_logout
from sso_site.signin.decorators import agent_required
from sso_site.signin.requests import AgentRequest
from sso_site.signin.session import sign_out
from tenants.inputs import InputError, ascii_int
from tenants.models import SITE_ID_MAX, SITE_ID_MIN, Audience

REMEMBER_SECONDS = 365 * 24 * 3600


def _remembered_site_id(request: HttpRequest) -> int | None:
    raw = request.COOKIES.get(settings.SSO_SITE_COOKIE, "")
    try:
        return ascii_int(raw, minimum=SITE_ID_MIN, maximum=SITE_ID_MAX)
    except InputError:
        return None


def _start_url(site_id: int, next_url: str | None) -> str:
    url = reverse("sso:agent-login", kwargs={"site_id": site_id})
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@never_cache
def agent_login(request: HttpRequest) -> HttpResponse:
    """Ask for the site ID (or offer the remembered one), then start its SSO."""
    next_url = request.GET.get("next") or request.POST.get("next")
    remembered = None if "change" in request.GET else _remembered_site_id(request)
    form = SiteIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        site_id = form.cleaned_data["site_id"]
        response = HttpResponseRedirect(_start_url(site_id, next_url))
        response.set_cookie(
            settings.SSO_SITE_COOKIE,
            str(site_id),
            max_age=REMEMBER_SECONDS,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response
    context = {
        "form": form,
        "next": next_url or "",
        "remembered": remembered,
        "continue_url": _start_url(remembered, next_url) if remembered else "",
    }
    return render(request, "agent/login.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def agent_logout(request: HttpRequest) -> HttpResponse:
    """End the agent's session, then the IdP's (single logout) where the
    site's protocol offers it, else go back to the sign-in page.

    A GET (a typed or bookmarked URL) only shows the sign-out button: signing
    out changes state, so it takes a POST with the CSRF token.
    """
    if request.method == "GET":
        return render(request, "agent/logout.html")
    site = sign_out(request, audience=Audience.AGENT)
    if site is not None:
        response = sign_in_logout(request, site=site, audience=Audience.AGENT)
        if response is not None:
            return response
    return HttpResponseRedirect(reverse("agent-login"))


@never_cache
@agent_required
def console_index(request: AgentRequest, site_id: int | None = None) -> HttpResponse:
    """Show the agent console of the site the session is bound to."""
    agent = request.agent
    chats = chats_open(site=agent.site, group=agent.department)
    context = {
        "agent": agent,
        "site": agent.site,
        "chats": chats,
        "stream": stream_on(),
        "safety_poll": settings.SSO_CHAT_SAFETY_POLL_S,
    }
    return stream_allowed(render(request, "console/index.html", context))
