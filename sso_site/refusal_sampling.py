"""Refusals for sites that do not exist: counted, not written one row each.

Anyone can send sign-ins for made-up site IDs, and one audit row each would
let a single client grow the audit log without bound. The first such refusal
of each reason in a minute is written (so the log shows it happens); the
others only increment a counter in the shared cache,
``sso:unknown-site-refusals:<reason>:<minute>``, kept for a day, and the log
line of ``render_refusal`` still shows each one (with no personal data).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def unknown_site_refusal_counted(reason: str) -> bool:
    """Count one refusal for an unknown site; True if its audit row is skipped."""
    if not getattr(settings, "SSO_UNKNOWN_SITE_AUDIT_SAMPLE", True):
        return False
    key = f"sso:unknown-site-refusals:{reason}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, timeout=86400):
            return False  # the first of its minute: written
        cache.incr(key)
    except Exception:  # cache down: write the row rather than lose it
        logger.warning("unknown-site refusal counter unavailable")
        return False
    return True
