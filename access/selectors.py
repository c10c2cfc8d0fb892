"""Reads of a site's agent access policy.

The policy is read on every sign-in and every console request, so it is
a part of the site's record in each process (``tenants.site_record``),
current while the site's version is: a save gives the site a new one.
"""

from __future__ import annotations

from typing import Any

from access.models import AccessPolicy, SsoMode
from tenants.models import Site
from tenants.network import address_in, parse_networks
from tenants.site_record import site_part

FIELDS = ("agent_method", "sso_mode", "agent_networks")


def _load(site: Site) -> tuple[tuple[str, Any], ...]:
    row = AccessPolicy.objects.filter(site=site).values(*FIELDS).first()
    return tuple(row.items()) if row is not None else ()


def _values(site: Site) -> dict[str, Any]:
    return dict(site_part(site.pk, "access:policy", lambda: _load(site)))


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
