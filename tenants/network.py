"""Client addresses behind trusted proxies, and networks in allow-lists.

One parser for addresses and networks; ``SSO_TRUSTED_PROXIES`` (a list of
networks, empty by default) says which peers may tell us the client's
address in X-Forwarded-For.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_MAX_HOPS = 20


def parse_address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return ``value`` as an IP address, or None when it is not one."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def parse_networks(text: str) -> list[Network]:
    """Return the networks of ``text`` (one per line or comma), else raise ValueError."""
    items = [item.strip() for line in text.splitlines() for item in line.split(",")]
    return [ipaddress.ip_network(item, strict=False) for item in items if item]


@lru_cache(maxsize=8)
def _trusted(setting: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_networks("\n".join(setting)))


def trusted_proxies() -> tuple[Network, ...]:
    """Return the networks of ``SSO_TRUSTED_PROXIES``."""
    return _trusted(tuple(getattr(settings, "SSO_TRUSTED_PROXIES", ())))


def address_in(address: str | None, networks: list[Network] | tuple[Network, ...]) -> bool:
    """Return whether ``address`` lies in one of ``networks``."""
    parsed = parse_address(address)
    return parsed is not None and any(parsed in network for network in networks)


def forwarded_client(remote: str | None, forwarded_for: str) -> str | None:
    """Return the client address, given the peer and its X-Forwarded-For."""
    proxies = trusted_proxies()
    if remote is None or not proxies or not address_in(remote, proxies):
        return remote
    client = remote
    hops = [hop.strip() for hop in forwarded_for.split(",")][-FORWARDED_MAX_HOPS:]
    for hop in reversed(hops):
        if parse_address(hop) is None:
            break  # garbage in the chain: stop at the last address we trust
        client = str(parse_address(hop))
        if not address_in(client, proxies):
            break
    return client
