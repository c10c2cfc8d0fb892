"""The outbound guard against real HTTP servers on loopback addresses.

127.0.0.1 stands for "the public address" (the only network a test allows)
and 127.0.0.2 for an internal one: both are real listening servers, so a
refusal is the guard's doing, never a server that was not there.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from sso.saml.metadata import idp_metadata_fetch
from sso_site import outbound
from sso_site.outbound import OutboundRefusedError, Problem, outbound_get

PUBLIC = ("127.0.0.1/32",)  # the stand-in for public addresses in these tests

Answer = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """An HTTP server on ``address`` answering GETs with ``answer``; it
    records the Host header of each request.
    """

    def __init__(self, address: str, answer: Answer) -> None:
        self.hosts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hosts.append(self.headers.get("Host", ""))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{address}:{self.port}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[str, Answer], Server]]:
    servers: list[Server] = []

    def start(address: str, answer: Answer) -> Server:
        servers.append(Server(address, answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def document(body: bytes = b"<ok/>", status: int = 200) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def redirect(location: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def get(url: str, **options: Any) -> outbound.Fetched:
    values: dict[str, Any] = {
        "max_bytes": 1024,
        "timeout": 2.0,
        "schemes": ("http",),
        "allow_networks": PUBLIC,
        "max_redirects": 3,
    }
    values.update(options)
    return outbound_get(url, **values)


def test_a_public_url_redirecting_to_a_private_address_is_refused(serve: Any) -> None:
    internal = serve("127.0.0.2", document(b"<secret/>"))
    public = serve("127.0.0.1", redirect(f"{internal.url}/latest/meta-data/"))

    with pytest.raises(OutboundRefusedError) as refused:
        get(f"{public.url}/metadata")

    assert refused.value.problem == Problem.PRIVATE_ADDRESS
    assert internal.hosts == []  # never contacted
    # The control: with the internal network allowed, the same chain is followed.
    fetched = get(f"{public.url}/metadata", allow_networks=("127.0.0.0/8",))
    assert (fetched.status, fetched.body) == (200, b"<secret/>")


def test_the_saml_metadata_fetch_refuses_a_redirect_to_a_private_address(
    serve: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SSO_SAML_METADATA_PRIVATE_HOSTS = False
    internal = serve("127.0.0.2", document(b"<secret/>"))
    public = serve("127.0.0.1", redirect(f"{internal.url}/metadata"))
    # idp.example is "public": it resolves to an address that counts as global.
    dns = FakeDns({"idp.example": ["127.0.0.1"], "127.0.0.2": ["127.0.0.2"]})
    monkeypatch.setattr(outbound, "resolve", dns)
    monkeypatch.setattr(outbound, "_is_public", lambda address: str(address) == "127.0.0.1")

    with pytest.raises(ValidationError, match="private or reserved network"):
        idp_metadata_fetch(f"http://idp.example:{public.port}/metadata")

    assert public.hosts == [f"idp.example:{public.port}"]
    assert internal.hosts == []


def test_redirects_are_not_followed_unless_asked(serve: Any) -> None:
    target = serve("127.0.0.1", document())
    start = serve("127.0.0.1", redirect(f"{target.url}/"))

    fetched = get(f"{start.url}/", max_redirects=0)

    assert (fetched.status, fetched.location, fetched.body) == (302, f"{target.url}/", b"")
    assert target.hosts == []


def test_a_scheme_outside_the_allow_list_is_refused(serve: Any) -> None:
    server = serve("127.0.0.1", redirect("file:///etc/passwd"))
    with pytest.raises(OutboundRefusedError) as refused:
        get(f"{server.url}/")
    assert refused.value.problem == Problem.SCHEME
    with pytest.raises(OutboundRefusedError) as https_only:
        get(f"{server.url}/", schemes=("https",))
    assert https_only.value.problem == Problem.SCHEME


class FakeDns:
    """A resolver that answers from ``answers``, each call of a host moving
    to its next address (a rebinding DNS server); ``calls`` counts them.
    """

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: dict[str, int] = {}

    def __call__(self, host: str, port: int) -> list[Any]:
        self.calls[host] = self.calls.get(host, 0) + 1
        addresses = self.answers[host]
        return [ipaddress.ip_address(addresses[min(self.calls[host], len(addresses)) - 1])]


def test_dns_is_resolved_once_and_the_connection_pinned(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve("127.0.0.1", document(b"<pinned/>"))
    # First answer: the allowed address; any later answer: an internal one
    # that nothing listens on. A guard that resolved again to connect would
    # reach it (or fail); a pinned one never asks twice.
    dns = FakeDns({"rebind.example": ["127.0.0.1", "10.255.255.1"]})
    monkeypatch.setattr(outbound, "resolve", dns)

    fetched = get(f"http://rebind.example:{server.port}/doc")

    assert fetched.body == b"<pinned/>"
    assert dns.calls == {"rebind.example": 1}
    assert server.hosts == [f"rebind.example:{server.port}"]  # spoken to by name


def test_a_name_with_any_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(outbound, "resolve", resolve)
    with pytest.raises(OutboundRefusedError) as refused:
        get("http://mixed.example/doc")
    assert refused.value.problem == Problem.PRIVATE_ADDRESS


def test_a_body_over_the_size_cap_is_refused(serve: Any) -> None:
    def chunked_without_length(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"x" * 4096)
        handler.wfile.flush()

    announced = serve("127.0.0.1", document(b"x" * 2048))
    unannounced = serve("127.0.0.1", chunked_without_length)

    for server in (announced, unannounced):
        with pytest.raises(OutboundRefusedError) as refused:
            get(f"{server.url}/big", max_bytes=1024)
        assert refused.value.problem == Problem.TOO_LARGE
    assert get(f"{announced.url}/big", max_bytes=2048).body == b"x" * 2048


def test_a_slow_server_times_out(serve: Any) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)

    server = serve("127.0.0.1", silent)
    start = time.monotonic()
    with pytest.raises(OutboundRefusedError) as refused:
        get(f"{server.url}/", timeout=0.3)
    assert refused.value.problem == Problem.TIMEOUT
    assert time.monotonic() - start < 1.2


def test_a_dripping_server_is_cut_at_the_total_time_cap(serve: Any) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        for _ in range(30):  # a byte every 0.1 s: each read is quick, the whole is not
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.1)

    server = serve("127.0.0.1", drip)
    start = time.monotonic()
    with pytest.raises(OutboundRefusedError) as refused:
        get(f"{server.url}/", timeout=0.5)
    assert refused.value.problem == Problem.TIMEOUT
    assert time.monotonic() - start < 1.5


def test_https_verifies_the_certificate_of_the_name_not_the_address(
    serve: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import ssl

    from sso.saml.metadata import sp_key_pair_generate

    key_pem, cert_pem = sp_key_pair_generate(common_name="tls.example")
    (tmp_path / "key.pem").write_text(key_pem)
    (tmp_path / "cert.pem").write_text(cert_pem)
    server = serve("127.0.0.1", document())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    monkeypatch.setattr(outbound, "resolve", FakeDns({"tls.example": ["127.0.0.1"]}))

    # A self-signed certificate is not trusted: the connection is refused.
    with pytest.raises(OutboundRefusedError) as refused:
        get(f"https://tls.example:{server.port}/", schemes=("https",))
    assert refused.value.problem == Problem.TLS
