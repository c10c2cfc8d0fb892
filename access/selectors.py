"""Reads of a site's agent access policy."""

from __future__ import annotations

from access.models import AccessPolicy, SsoMode
from tenants.models import Site
from tenants.network import address_in, parse_networks


def access_policy_get(*, site: Site) -> AccessPolicy:
    """Return the site's policy, or an unsaved default one (no restriction)."""
    policy = AccessPolicy.objects.filter(site=site).first()
    return policy if policy is not None else AccessPolicy(site=site, sso_mode=SsoMode.OPTIONAL)


def agent_network_allowed(*, site: Site, address: str | None) -> bool:
    """Return whether an agent of ``site`` may come from ``address``.

    A site without networks allows every address; one with networks allows
    only addresses inside them (an unknown address is outside).
    """
    networks = parse_networks(access_policy_get(site=site).agent_networks)
    return not networks or address_in(address, networks)
