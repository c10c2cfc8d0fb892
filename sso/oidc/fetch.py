"""Outbound HTTP of the OpenID Connect adapter, in one place.

Discovery and JWKS documents go through ``oidc_fetch_json``; the token
endpoint through ``oidc_http_session``. Both apply the same guard (scheme,
non-public addresses, time and size caps, no redirects); switching to the
project's shared outbound-fetch guard is a change here only.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

MAX_BYTES = 256 * 1024


class FetchError(Exception):
    """The document could not be fetched or read; the message says why."""


def oidc_url_problem(url: str) -> str:
    """Return why ``url`` may not be fetched, or "" if it may."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.SSO_OIDC_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed or not parts.hostname:
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
    """Return the JSON object at ``url``, else raise FetchError."""
    problem = oidc_url_problem(url)
    if problem:
        raise FetchError(problem)
    try:
        with requests.get(
            url,
            timeout=settings.SSO_OIDC_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code}")
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise FetchError(type(exc).__name__) from exc
    if len(body) > MAX_BYTES:
        raise FetchError("document too large")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise FetchError("not JSON") from exc
    if not isinstance(document, dict):
        raise FetchError("not a JSON object")
    return document
