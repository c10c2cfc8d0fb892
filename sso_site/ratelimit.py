"""Rate limits on sign-in, the login form, the window's chat creation and the
admin login, applied by URL name so protocol views stay untouched.

Counters are django-ratelimit's, in the shared cache (Redis), so all app
servers count together. Every rule counts per client address, per site or
per account; rates come from ``settings.SSO_RATE_LIMITS``. A refused request
gets 429 with ``Retry-After`` and the reason code ``rate_limited`` (JSON for
the window's API and JSON callers, the 429 page otherwise). The first
request over a limit in each window writes one audit row; the rest are only
counted, so a flood cannot grow the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

# The private helpers too: the counters counted here in one round trip are
# the very ones get_usage() counts (same keys, windows and expiries).
from django_ratelimit.core import (  # type: ignore[import-untyped]
    _SIMPLE_KEYS,
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)
from redis.exceptions import RedisError

from sso_site.redis_cache import RedisCache
from sso_site.signin.refusals import RefusalReason
from tenants.models import Audience, LoginEvent, Site
from tenants.selectors import site_get_by_public_id
from tenants.services import audit_record

logger = logging.getLogger(__name__)

Key = Callable[[str, HttpRequest], str]


def _site_key(group: str, request: HttpRequest) -> str:
    match = request.resolver_match
    return str(match.kwargs.get("site_id", "")) if match else ""


def _token_key(group: str, request: HttpRequest) -> str:
    """The window's token with the client address: guest tokens of one
    campaign issued in the same second are alike, so the address keeps
    different visitors apart."""
    token = request.headers.get("Authorization", "")
    address = str(request.META.get("REMOTE_ADDR", ""))
    return hashlib.sha256(f"{address} {token}".encode()).hexdigest()[:32]


def _account_key(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("username", "")).strip().casefold()[:150]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str  # key of settings.SSO_RATE_LIMITS
    key: str | Key
    method: str | None = None  # None: every method


_SIGNIN = (Rule("signin_ip", "ip"), Rule("signin_site", _site_key))
RULES: dict[str, tuple[Rule, ...]] = {
    "sso:agent-login": _SIGNIN,
    "sso:agent-jwt": _SIGNIN,
    "sso:agent-saml-acs": _SIGNIN,
    "sso:agent-oidc-callback": _SIGNIN,
    "sso:agent-password": (
        Rule("signin_ip", "ip", "POST"),
        Rule("signin_site", _site_key, "POST"),
    ),
    "sso:visitor-login": _SIGNIN,
    "sso:visitor-jwt": _SIGNIN,
    "sso:visitor-saml-acs": _SIGNIN,
    "agent-login": (Rule("login_form_ip", "ip", "POST"),),
    "chats:api-start": (
        Rule("chat_start_ip", "ip", "POST"),
        Rule("chat_start_token", _token_key, "POST"),
        Rule("chat_start_site", _site_key, "POST"),
    ),
    # A sign-out hands out a fresh guest token: counted with chat starts.
    "chats:api-sign-out": (Rule("chat_start_ip", "ip", "POST"),),
    "admin:login": (
        Rule("admin_login_ip", "ip", "POST"),
        Rule("admin_login_account", _account_key, "POST"),
    ),
}


@dataclass(frozen=True, slots=True)
class _Counter:
    rule: Rule
    key: str  # django-ratelimit's cache key: the same counter either way
    ttl: int
    limit: int
    window: int  # when the window ends (unix time)


def _counters(request: HttpRequest, rules: tuple[Rule, ...]) -> list[_Counter]:
    """Return the window counters ``request`` counts under (django-ratelimit's
    keys, windows and expiries, so both ways of counting share them).
    """
    counters = []
    for rule in rules:
        if rule.method and request.method != rule.method:
            continue
        rate = settings.SSO_RATE_LIMITS[rule.name]
        limit, period = _split_rate(rate)
        group = f"sso:{rule.name}"
        value = rule.key(group, request) if callable(rule.key) else _SIMPLE_KEYS[rule.key](request)
        window = _get_window(value, period)
        key = _make_cache_key(group, window, rate, value, None)
        counters.append(_Counter(rule, key, period + EXPIRATION_FUDGE, limit, window))
    return counters


def _over_limit(request: HttpRequest, rules: tuple[Rule, ...]) -> tuple[str, int] | None:
    """Count the request under each rule; return (rule, seconds left) if over one.

    On Redis every counter is counted in one round trip; on another cache,
    one rule at a time through django-ratelimit.
    """
    worst: tuple[str, int] | None = None
    counters = _counters(request, rules)
    if not counters:
        return None
    try:
        counts = _counts_incr(request, counters)
    except (RedisError, OSError):
        logger.warning("rate limit: cache unavailable, not limiting")
        return None
    for counter, count in zip(counters, counts, strict=True):
        if count <= counter.limit:
            continue
        left = max(counter.window - int(time.time()), 1)
        if count == counter.limit + 1:
            _audit(request, counter.rule)
        if worst is None or left > worst[1]:
            worst = (counter.rule.name, left)
    return worst


def _counts_incr(request: HttpRequest, counters: list[_Counter]) -> list[int]:
    store = caches[settings.RATELIMIT_USE_CACHE]
    if isinstance(store, RedisCache):
        return store.counts_incr([(c.key, c.ttl) for c in counters])
    counts = []
    for counter in counters:
        rule = counter.rule
        usage = get_usage(
            request,
            group=f"sso:{rule.name}",
            key=rule.key,
            rate=settings.SSO_RATE_LIMITS[rule.name],
            increment=True,
        )
        counts.append(int(usage["count"]) if usage else 0)
    return counts


def _audit(request: HttpRequest, rule: Rule) -> None:
    """One audit row when a client first crosses a limit in a window."""
    site: Site | None = None
    match = request.resolver_match
    if match and "site_id" in match.kwargs:
        site = site_get_by_public_id(site_id=match.kwargs["site_id"])
    visitor = bool(match and "visitor" in (match.url_name or ""))
    audit_record(
        request,
        site=site,
        audience=Audience.VISITOR if visitor else Audience.AGENT,
        protocol=None,  # the admin password form is no SSO protocol
        outcome=LoginEvent.Outcome.REFUSED,
        reason=RefusalReason.RATE_LIMITED.value,
        subject=_account_key("", request) if rule.name == "admin_login_account" else "",
        detail={"limit": rule.name, "rate": settings.SSO_RATE_LIMITS[rule.name]},
    )


def _wants_json(request: HttpRequest) -> bool:
    return "/api/" in request.path or "application/json" in request.headers.get("Accept", "")


def rate_limited_response(request: HttpRequest, rule: str, retry_after: int) -> HttpResponse:
    reason = RefusalReason.RATE_LIMITED
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"error": reason.value, "retry_after": retry_after}, status=429)
    else:
        context = {"reason": reason, "retry_after": retry_after, "admin": "admin" in rule}
        response = TemplateResponse(request, "429.html", context, status=429)
        response.render()
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """Apply ``RULES`` by the resolved URL name before the view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        match = request.resolver_match
        rules = RULES.get(match.view_name) if match else None
        if not rules:
            return None
        over = _over_limit(request, rules)
        if over is None:
            return None
        logger.info("rate limited: rule=%s", over[0])
        return rate_limited_response(request, *over)
