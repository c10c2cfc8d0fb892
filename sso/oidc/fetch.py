"""Outbound HTTP of the OpenID Connect adapter, in one place.

Discovery and JWKS documents go through ``oidc_fetch_json``, on the
project's outbound guard (``sso_site.outbound``). The token endpoint's POST,
which authlib makes with ``requests``, goes through the same guard too: the
client's session sends on ``GuardedAdapter`` (DNS pinned, every address
checked, no redirects, size and time capped), never on requests' own pool.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sso_site.outbound import ANY_NETWORK, OutboundRefusedError, outbound_get, outbound_request

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


class GuardedAdapter(BaseAdapter):
    """A ``requests`` transport that sends through the outbound guard.

    Mounted on authlib's session for the token request: a refused or failed
    fetch raises ``requests.ConnectionError`` (the guard's reason as its
    message), which the caller maps to ``oidc_provider_unavailable``.
    """

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body or b""
        if not isinstance(body, str | bytes):  # a stream: authlib sends a form
            raise requests.ConnectionError("a streamed body is not sent", request=request)
        try:
            fetched = outbound_request(
                request.method or "POST",
                request.url or "",
                body=body.encode() if isinstance(body, str) else body,
                max_bytes=MAX_BYTES,
                timeout=settings.SSO_OIDC_TIMEOUT_SECONDS,
                schemes=_schemes(),
                allow_networks=ANY_NETWORK if settings.SSO_OIDC_ALLOW_PRIVATE else (),
                headers={k: v for k, v in request.headers.items() if isinstance(v, str)},
            )
        except OutboundRefusedError as exc:
            raise requests.ConnectionError(str(exc), request=request) from exc
        response = requests.Response()
        response.status_code = fetched.status
        response._content = fetched.body
        response.headers = CaseInsensitiveDict({"Content-Type": fetched.content_type})
        if fetched.location:
            response.headers["Location"] = fetched.location
        response.url = fetched.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to close: the guard opens a connection per request."""
