"""Outbound HTTP of the OpenID Connect adapter, in one place.

Discovery and JWKS documents go through ``oidc_fetch_json``, on the
project's outbound guard (``sso_site.outbound``). The token endpoint is a
POST, which the guard does not offer: authlib makes it with ``requests``,
after ``oidc_url_problem`` checked its scheme and addresses (no redirects,
a timeout), which leaves a DNS-rebinding window there only.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from sso_site.outbound import ANY_NETWORK, OutboundRefusedError, outbound_get

MAX_BYTES = 256 * 1024


class FetchError(Exception):
    """The document could not be fetched or read; the message says why."""


def _schemes() -> tuple[str, ...]:
    return ("https", "http") if settings.SSO_OIDC_ALLOW_HTTP else ("https",)


def oidc_url_problem(url: str) -> str:
    """Return why ``url`` may not be fetched, or "" if it may."""
    parts = urlsplit(url)
    if parts.scheme not in _schemes() or not parts.hostname:
        return "scheme not allowed"
    if settings.SSO_OIDC_ALLOW_PRIVATE:
        return ""
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "host does not resolve"
    if any(not ipaddress.ip_address(info[4][0]).is_global for info in infos):
        return "host resolves to a non-public address"
    return ""


def oidc_fetch_json(url: str) -> dict[str, Any]:
    """Return the JSON object at ``url``, fetched through the project's
    outbound guard (DNS pinned, every address checked, no redirects, size
    and time capped), else raise FetchError.
    """
    try:
        fetched = outbound_get(
            url,
            max_bytes=MAX_BYTES,
            timeout=settings.SSO_OIDC_TIMEOUT_SECONDS,
            schemes=_schemes(),
            allow_networks=ANY_NETWORK if settings.SSO_OIDC_ALLOW_PRIVATE else (),
            headers={"Accept": "application/json"},
        )
    except OutboundRefusedError as exc:
        raise FetchError(str(exc)) from exc
    if fetched.status != 200:
        raise FetchError(f"HTTP {fetched.status}")
    try:
        document = json.loads(fetched.body)
    except ValueError as exc:
        raise FetchError("not JSON") from exc
    if not isinstance(document, dict):
        raise FetchError("not a JSON object")
    return document
