"""Content-Security-Policy on every response (django-csp).

A view that sets its own header (the chat window's ``frame-ancestors`` of its
site's allowed origins) keeps those directives; the rest of the project's
policy is added around them, so the window too gets a full policy.
"""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponseBase


class SiteCSPMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        own = response.headers.get(HEADER)
        if own:
            replace: dict[str, list[str]] = {}
            for directive in own.split(";"):
                name, _, value = directive.strip().partition(" ")
                if name:
                    replace[name] = value.split()
            response._csp_replace = replace  # type: ignore[attr-defined]
            del response[HEADER]
        result: HttpResponseBase = super().process_response(request, response)
        return result
