"""Project-level views: health check and error pages."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection  # type: ignore[attr-defined]

from sso_site.unavailable import is_unavailable, unavailable_response

logger = logging.getLogger(__name__)


# Each check runs in this small pool with a deadline, so /healthz answers
# within ``HEALTH_DEADLINE`` seconds even when a part hangs (a hung check
# keeps its thread until the part's own timeout ends it).
HEALTH_DEADLINE = 1.5
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
_running: dict[str, Future[str]] = {}
_running_lock = threading.Lock()


def _check(name: str, fn: Callable[[], str]) -> Future[str]:
    """Start check ``name``, or join the same check still running from an
    earlier call: at most one of each is ever in flight, however often
    /healthz is asked while a part hangs."""
    with _running_lock:
        future = _running.get(name)
        if future is None or future.done():
            future = _running[name] = _pool.submit(fn)
        return future


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:  # any driver error means "not reachable"
        logger.warning("healthz: database unreachable")
        return False
    finally:
        connection.close()  # this thread's own connection


def _cache_status() -> str:
    if not str(settings.CACHES["default"]["BACKEND"]).endswith("RedisCache"):
        return "local"
    try:
        cache.get("healthz")
    except Exception:  # any client error means "not reachable"
        logger.warning("healthz: cache unreachable")
        return "unreachable"
    return "ok"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run in-process
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, interval_start=0.1, timeout=1)
    except Exception:  # any transport error means "not reachable"
        logger.warning("healthz: broker unreachable")
        return "unreachable"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database, the cache and the Celery broker are reachable."""
    deadline = time.monotonic() + HEALTH_DEADLINE
    futures = {
        "database": _check("database", lambda: "ok" if _database_ok() else "unreachable"),
        "cache": _check("cache", _cache_status),
        "broker": _check("broker", _broker_status),
    }
    report: dict[str, str] = {}
    for name, future in futures.items():
        try:
            report[name] = future.result(timeout=max(deadline - time.monotonic(), 0.01))
        except FutureTimeout:
            logger.warning("healthz: %s check timed out", name)
            report[name] = "timeout"
    healthy = all(value in {"ok", "eager", "local"} for value in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **report}, status=200 if healthy else 503
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Render the 500 page without a request context, which may be broken;
    a database or cache that is down gets the 503 page (JSON for JSON callers)."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return HttpResponse(loader.get_template("500.html").render(), status=500)


@never_cache
@require_GET
def visitor_signed_in(request: HttpRequest) -> HttpResponse:
    """Where a visitor lands after signing in when the caller gave no ``return_to``."""
    return render(request, "sso/visitor_signed_in.html")
