"""Admin sessions end after ``SSO_ADMIN_IDLE_SECONDS`` without a request and
``SSO_ADMIN_MAX_AGE_SECONDS`` after sign-in, whatever the activity.

Only sessions with a signed-in Django user (the admin) are concerned; agent
and visitor sessions have their own lifetime from the site's settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

STARTED = "_sso_admin_started"
SEEN = "_sso_admin_seen"


class AdminSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = int(session.setdefault(STARTED, now))
            seen = int(session.get(SEEN, now))
            idle = now - seen > settings.SSO_ADMIN_IDLE_SECONDS
            if idle or now - started > settings.SSO_ADMIN_MAX_AGE_SECONDS:
                logout(request)  # flushes the session: the next page asks to sign in
            elif now - seen >= 30 or SEEN not in session:
                session[SEEN] = now  # written at most every 30 s
        return self.get_response(request)
