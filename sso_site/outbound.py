"""The one guarded way out: every server-side fetch of a URL a tenant chose.

IdP metadata, JWKS documents, and later OIDC discovery and webhooks are
fetched from URLs that site operators type. Without a guard those URLs let
an operator make our servers read their internal network (SSRF: cloud
metadata services, admin ports). So every fetch here:

- allows only the schemes it is given (``https``, ``http`` on request);
- resolves the host once, refuses it unless every address it resolves to
  is public (or in a network the caller explicitly allows), and connects
  to that very address: a second DNS answer (rebinding between check and
  connect) is never consulted. TLS still verifies the certificate against
  the host name (SNI and hostname check on the name, not the address);
- follows a redirect only when asked, and checks each hop as the first;
- caps the body's size and the whole fetch's time, not just each read.

It sits in the lowest layer (it imports nothing of ours), so any app may
use it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a caller passes as ``allow_networks`` when its setting lifts the
# address check (development, tests): every address.
ANY_NETWORK: tuple[str, ...] = ("0.0.0.0/0", "::/0")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 16 * 1024


class Problem(StrEnum):
    """Why a fetch was refused or failed; the value reads as a sentence's end."""

    SCHEME = "the URL's scheme is not allowed"
    BAD_URL = "the URL is not valid"
    UNRESOLVABLE = "the host does not resolve"
    PRIVATE_ADDRESS = "the host resolves to a non-public address"
    TOO_LARGE = "the document is too large"
    TIMEOUT = "timed out"
    TLS = "the TLS certificate was refused"
    CONNECTION = "the connection failed"


class OutboundRefusedError(Exception):
    """The fetch was refused or failed; the message is safe to show an operator."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched document: the URL it came from, its status, body and type.

    ``location`` is set for a redirect that was not followed.
    """

    url: str
    status: int
    body: bytes
    content_type: str = ""
    location: str = ""


def resolve(host: str, port: int) -> list[IpAddress]:
    """Return the addresses ``host`` resolves to (the tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def outbound_get(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    schemes: Collection[str] = ("https",),
    allow_networks: Collection[str] = (),
    max_redirects: int = 0,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET ``url`` through the guard; return the response, redirects followed.

    Raise OutboundRefusedError for a refused scheme or address, a failed
    connection, more than ``max_redirects`` redirects, a body over
    ``max_bytes`` or a fetch longer than ``timeout`` seconds in all. A
    redirect beyond ``max_redirects`` is returned as it is (3xx status).
    ``allow_networks`` are non-public networks this call may reach too.
    """
    networks = tuple(ipaddress.ip_network(n) for n in allow_networks)
    deadline = time.monotonic() + timeout
    for hop in range(max_redirects + 1):
        fetched = _get_once(
            url,
            max_bytes=max_bytes,
            deadline=deadline,
            schemes=schemes,
            networks=networks,
            headers=headers or {},
        )
        if not fetched.location or hop == max_redirects:
            return fetched
        url = urljoin(url, fetched.location)
    raise AssertionError("unreachable")  # pragma: no cover


def outbound_request(
    method: str,
    url: str,
    *,
    body: bytes,
    max_bytes: int,
    timeout: float,
    schemes: Collection[str] = ("https",),
    allow_networks: Collection[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """Send ``body`` to ``url`` with ``method`` (webhooks) through the same guard.

    Never follows a redirect: a 3xx comes back as it is.
    """
    return _get_once(
        url,
        max_bytes=max_bytes,
        deadline=time.monotonic() + timeout,
        schemes=schemes,
        networks=tuple(ipaddress.ip_network(n) for n in allow_networks),
        headers=headers or {},
        method=method,
        body=body,
    )


def _get_once(
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    schemes: Collection[str],
    networks: tuple[IpNetwork, ...],
    headers: Mapping[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> Fetched:
    """Fetch one hop; a redirect comes back with its ``location``."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise OutboundRefusedError(Problem.SCHEME)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefusedError(Problem.BAD_URL) from exc
    address = _address_pinned(host, port, networks)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundRefusedError(Problem.TIMEOUT)
    pool = _pool(parts.scheme, host, address, port, remaining)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = {
        **headers,
        "Host": parts.netloc.rpartition("@")[2],
        "Accept-Encoding": "identity",  # the size cap counts the bytes we keep
    }
    try:
        response = pool.urlopen(
            method,
            path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location", "")
                return Fetched(url, response.status, b"", location=location)
            body = _read_capped(response, max_bytes=max_bytes, deadline=deadline)
            content_type = response.headers.get("Content-Type", "")
            return Fetched(url, response.status, body, content_type)
        finally:
            response.release_conn()
    except HTTPError as exc:
        raise OutboundRefusedError(_failure(exc)) from exc
    finally:
        pool.close()


def _address_pinned(host: str, port: int, networks: tuple[IpNetwork, ...]) -> IpAddress:
    """Resolve ``host`` once; return the address to connect to, or refuse.

    Every address must pass, not just the one we pick: a name that also
    resolves to an internal address is refused as a whole.
    """
    if not host:
        raise OutboundRefusedError(Problem.BAD_URL)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise OutboundRefusedError(Problem.UNRESOLVABLE) from exc
    if not addresses:
        raise OutboundRefusedError(Problem.UNRESOLVABLE)
    for address in addresses:
        if not _is_public(address) and not any(address in net for net in networks):
            raise OutboundRefusedError(Problem.PRIVATE_ADDRESS)
    return addresses[0]


def _is_public(address: IpAddress) -> bool:
    """Return whether ``address`` is on the public internet (the tests replace this)."""
    return address.is_global


def _pool(
    scheme: str, host: str, address: IpAddress, port: int, timeout: float
) -> urllib3.HTTPConnectionPool:
    """Return a one-connection pool to ``address``, speaking to ``host``."""
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            port,
            timeout=limits,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=host,
            assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(str(address), port, timeout=limits, maxsize=1, retries=False)


def _read_capped(response: urllib3.BaseHTTPResponse, *, max_bytes: int, deadline: float) -> bytes:
    """Read at most ``max_bytes``; refuse past it or past the deadline.

    The read timeout bounds each wait; the deadline bounds them all, so a
    server dripping a byte at a time cannot hold a worker.
    """
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise OutboundRefusedError(Problem.TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise OutboundRefusedError(Problem.TIMEOUT)
        chunk = response.read1(CHUNK_BYTES)  # returns after one socket read
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise OutboundRefusedError(Problem.TOO_LARGE)
        chunks.append(chunk)


def _failure(exc: HTTPError) -> Problem:
    """Name the failure without echoing the URL or a server's words."""
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return Problem.TIMEOUT
    if isinstance(exc, urllib3.exceptions.SSLError):
        return Problem.TLS
    return Problem.CONNECTION
