"""Project-level views: health check and error pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection  # type: ignore[attr-defined]

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:  # any driver error means "not reachable"
        logger.warning("healthz: database unreachable", exc_info=True)
        return False


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run in-process
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # any transport error means "not reachable"
        logger.warning("healthz: broker unreachable", exc_info=True)
        return "unreachable"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the Celery broker are reachable."""
    database = "ok" if _database_ok() else "unreachable"
    broker = _broker_status()
    healthy = database == "ok" and broker in {"ok", "eager"}
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Render the 500 page without a request context, which may be broken."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)


@never_cache
@require_GET
def visitor_signed_in(request: HttpRequest) -> HttpResponse:
    """Where a visitor lands after signing in when the caller gave no ``return_to``."""
    return render(request, "sso/visitor_signed_in.html")
