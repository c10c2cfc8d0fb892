"""Hooks protocol adapters register into, so that the console and the
session layer never import the adapters.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenants.models import Audience, Site

# Called after the local sign-out, with the site the session was bound to;
# the first to return a response (a LogoutRequest to the IdP) wins.
LogoutHandler = Callable[[HttpRequest, Site, Audience], HttpResponse | None]

LOGOUT_HANDLERS: list[LogoutHandler] = []
