""" "Test connection" round trips (issue 15): a real sign-in started from the
admin that ends on a check-by-check result page instead of signing anyone in.

``test_start`` registers a nonce for (site, audience, protocol, operator) in
the cache. The SAML AuthnRequest remembers ``TEST_PREFIX + nonce`` as its
return address in this browser's SAML state; the JWT callback URL carries
``TEST_PARAM=nonce``. The ACS or callback that meets a registered nonce runs
the same checks under a trace (``dry_run`` for the identity: no replay entry,
no session, no audit row), stores the outcome under the nonce and redirects
to the result page, which shows it to an operator of the site only.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sso.checktrace import CheckTrace
from sso_site.signin.refusals import SignInRefused
from tenants.models import Site

TEST_PREFIX = "sso-test:"
TEST_PARAM = "sso_test"
TTL = 15 * 60
_KEY = "sso-test-connection:{}"


def test_start(*, site: Site, audience: str, protocol: str, user_pk: int) -> str:
    """Register a test round trip; return its nonce."""
    nonce = secrets.token_urlsafe(18)
    cache.set(
        _KEY.format(nonce),
        {"site": site.pk, "audience": audience, "protocol": protocol, "user": user_pk},
        TTL,
    )
    return nonce


def test_get(nonce: str) -> dict[str, Any] | None:
    """Return the registered round trip ``nonce`` (with its result once done)."""
    if not nonce or len(nonce) > 64:
        return None
    value: dict[str, Any] | None = cache.get(_KEY.format(nonce))
    return value


def test_finish(nonce: str, verify: Any) -> HttpResponse:
    """Run ``verify`` under a trace, store the outcome, go to the result page."""
    found = test_get(nonce) or {}
    with CheckTrace() as trace:
        try:
            identity = verify()
            outcome: dict[str, Any] = {"reason": "", "check": "", "claims": sorted(identity.claims)}
        except SignInRefused as refusal:
            outcome = {
                "reason": refusal.reason.value,
                "check": str(refusal.detail.get("check") or refusal.reason.value),
                "claims": [],
            }
    found["result"] = {**outcome, "passed": trace.passed}
    cache.set(_KEY.format(nonce), found, TTL)
    response = HttpResponseRedirect(reverse("troubleshoot:test-result", args=[nonce]))
    response["Cache-Control"] = "no-store"
    return response
