"""A clear 503 when PostgreSQL or Redis is unavailable, instead of a 500.

The middleware turns a view's database or cache connection error into a 503
(JSON for JSON callers); ``sso_site.views.server_error`` does the same for
errors raised outside views (sessions, middleware). Nothing is cached, so
the next request after the part comes back succeeds: no restart needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerError,
)
RETRY_AFTER_SECONDS = 5
REASON = "service_unavailable"


def is_unavailable(exc: BaseException | None) -> bool:
    """Return whether ``exc`` (or its cause) means a backing service is down."""
    while exc is not None:
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def wants_json(request: HttpRequest | None) -> bool:
    if request is None:
        return False
    path = request.path
    return (
        "/api/" in path
        or path.endswith(".json")
        or "application/json" in request.headers.get("Accept", "")
    )


def unavailable_response(request: HttpRequest | None) -> HttpResponse:
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse({"error": REASON}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class UnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("503: %s while serving a request", type(exception).__name__)
        return unavailable_response(request)
