"""Reads of a site's agent access policy.

The policy is read on every sign-in and every console request, so it is
kept in the shared cache (five minutes at most; a save clears it), and a
cache that is down falls back to the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from access.models import AccessPolicy, SsoMode, access_policy_cache_key
from tenants.models import Site
from tenants.network import address_in, parse_networks

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
FIELDS = ("agent_method", "sso_mode", "agent_networks")


def _values(site: Site) -> dict[str, Any]:
    key = access_policy_cache_key(site)
    try:
        values: dict[str, Any] | None = cache.get(key)
    except Exception:  # any cache backend error: read the database
        logger.warning("access policy: cache unavailable")
        values = None
    if values is None:
        row = AccessPolicy.objects.filter(site=site).values(*FIELDS).first()
        values = row if row is not None else {}
        try:
            cache.set(key, values, timeout=CACHE_SECONDS)
        except Exception:  # any cache backend error: nothing to keep
            logger.warning("access policy: cache unavailable")
    return values


def access_policy_get(*, site: Site) -> AccessPolicy:
    """Return the site's policy (unsaved; read-only), defaults without one."""
    values = {"sso_mode": SsoMode.OPTIONAL, **_values(site)}
    return AccessPolicy(site=site, **values)


def agent_network_allowed(*, site: Site, address: str | None) -> bool:
    """Return whether an agent of ``site`` may come from ``address``.

    A site without networks allows every address; one with networks allows
    only addresses inside them (an unknown address is outside).
    """
    networks = parse_networks(access_policy_get(site=site).agent_networks)
    return not networks or address_in(address, networks)
