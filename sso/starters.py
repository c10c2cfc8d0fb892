"""Which protocol starts an agent's sign-in for a site.

Each protocol adapter contributes a starter: given the request, the site and
a permitted ``return_to``, it returns the response that begins its sign-in
(an AuthnRequest redirect, a redirect to the site's JWT login URL), or None
when the site has not configured that protocol. The first that answers wins.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenants.models import Audience, Site

Starter = Callable[[HttpRequest, Site, Audience, str | None], HttpResponse | None]

STARTERS: list[Starter] = []
