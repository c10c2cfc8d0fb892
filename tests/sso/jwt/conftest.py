"""JWT fixtures: keys generated at test time, sites configured for each
algorithm, ``jwt_factory(site, alg=..., **claims)`` signing with PyJWT, and
``jwks_server``, a JWKS endpoint served over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.test import Client

from sso.jwt.keys import jwks_forget
from sso.jwt.models import JwtSettings
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, Site
from tests.factories import AgentFactory

ISSUER = "https://login.shop.example/"
AUDIENCE = "sso-gateway"


def public_pem(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(private_key: Any) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class Keyring:
    """Keys of one test session: the site's, a rotated one, and strangers'."""

    secret: str
    rsa: RSAPrivateKey  # (the field names shadow the modules in the class body)
    rsa_next: RSAPrivateKey
    ec: EllipticCurvePrivateKey
    ec_next: EllipticCurvePrivateKey
    other_secret: str
    other_rsa: RSAPrivateKey

    def signing_key(self, alg: str) -> Any:
        return {"HS256": self.secret.encode(), "RS256": self.rsa, "ES256": self.ec}[alg]


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    def new_rsa() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keyring(
        secret=uuid.uuid4().hex + uuid.uuid4().hex,
        rsa=new_rsa(),
        rsa_next=new_rsa(),
        ec=ec.generate_private_key(ec.SECP256R1()),
        ec_next=ec.generate_private_key(ec.SECP256R1()),
        other_secret=uuid.uuid4().hex + uuid.uuid4().hex,
        other_rsa=new_rsa(),
    )


@pytest.fixture
def jwt_configure(keyring: Keyring) -> Callable[..., JwtSettings]:
    """Return a function giving ``site`` enabled JWT settings for ``alg``."""

    def configure(site: Site, alg: str = "RS256", **fields: Any) -> JwtSettings:
        values: dict[str, Any] = {
            "enabled": True,
            "login_url": "https://login.shop.example/sso?brand=1",
            "algorithm": alg,
            "expected_issuer": ISSUER,
            "expected_audience": AUDIENCE,
        }
        if alg == "HS256":
            values["secret_encrypted"] = secret_encrypt(keyring.secret)
            values["secret_fingerprint"] = secret_fingerprint(keyring.secret)
        elif alg == "RS256":
            values["public_key"] = public_pem(keyring.rsa)
        else:
            values["public_key"] = public_pem(keyring.ec)
        values.update(fields)
        config = JwtSettings(site=site, **values)
        config.full_clean()
        config.save()
        return config

    return configure


JwtFactory = Callable[..., str]


@pytest.fixture
def jwt_factory(keyring: Keyring) -> JwtFactory:
    """Return ``make(site, alg=..., key=..., headers=..., **claims)``.

    Claims default to a fresh valid token; a claim given as None is left
    out. ``key`` overrides the site's signing key of ``alg``.
    """

    def make(
        site: Site,
        alg: str = "RS256",
        *,
        key: Any = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "email": f"alice@{site.site_id}.example",
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        signing_key = keyring.signing_key(alg) if key is None else key
        return jwt.encode(payload, signing_key, algorithm=alg, headers=headers)

    return make


@pytest.fixture
def jwt_agent(site: Site) -> Agent:
    """The agent that ``jwt_factory``'s default email names at ``site``."""
    return AgentFactory.create(site=site, email=f"alice@{site.site_id}.example")


def callback_url(site: Site) -> str:
    return f"/sso/{site.site_id}/agent/jwt/"


def reason_on_page(response: Any) -> str:
    body = response.content.decode()
    marker = 'id="reason-code">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


def session_binding(client: Client) -> Any:
    return client.session.get(session_key_for(Audience.AGENT))


def jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    key: dict[str, Any] = json.loads(algorithm.to_jwk(private_key.public_key()))
    return {**key, "kid": kid, "use": "sig", "alg": alg}


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts the requests it answers."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.status = 200
        self.delay = 0.0
        self.failures = 0  # the first this many requests are answered 503
        self.requests = 0
        counting = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with counting:
                    owner.requests += 1
                    status = 503 if owner.requests <= owner.failures else owner.status
                time.sleep(owner.delay)
                body = json.dumps(owner.document).encode()
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # the timeout test hangs up first

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    # Only this URL's keys: the Redis database is shared with the Celery
    # broker and other tests, so it is never flushed. (A port may be reused
    # by a later server, hence before and after.)
    with JwksServer() as server:
        jwks_forget(server.url)
        yield server
        jwks_forget(server.url)
