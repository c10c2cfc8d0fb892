"""A small, real OpenID provider for the tests, on authlib's server side.

Independent of the relying party under test: authlib's
``AuthorizationServer`` with its authorization-code grant, PKCE
(``CodeChallenge``), ``OpenIDCode`` and ``private_key_jwt`` client
authentication (``JWTBearerClientAssertion``), served over HTTP by wsgiref
in a thread. Codes are single-use; ID tokens are signed with the current
key of a JWKS that can rotate. ``misbehave`` re-issues the ID token the
provider made with forged claims, another key or ``alg=none``, as an
attacker or a broken provider would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    auth_method: str = "client_secret_basic"
    public_jwks: dict[str, Any] | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret or "", self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    amr: list[str] | None = None
    acr: str | None = None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str] | None:
        return self.amr


class Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {k: [v] for k, v in self._data.items()}


class Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, environ: dict[str, Any], form: dict[str, str]) -> None:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        uri = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        super().__init__(environ["REQUEST_METHOD"], uri, headers=headers)
        self.payload = Payload({**query, **form})
        self._query, self._form = query, form

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OpenIDProvider:
    """The provider; ``issuer`` is its base URL once started."""

    def __init__(self) -> None:
        self.keys: list[RSAKey] = [new_key()]
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.auto_login: str | None = None  # approve at once as this user
        self.amr: list[str] | None = None
        self.acr: str | None = None
        self.misbehave: dict[str, Any] = {}
        self.ended_sessions = 0
        self.last_id_token = ""
        self.issuer = ""
        self.server = self._authorization_server()

    # The provider's keys and users.
    def rotate_keys(self) -> None:
        """Sign with a new key from now on; publish only the new one."""
        self.keys = [new_key()]

    def add_user(self, email: str, *, email_verified: bool | None = True, **claims: Any) -> None:
        user = {"sub": f"user-{len(self.users) + 1}", "email": email, **claims}
        if email_verified is not None:
            user["email_verified"] = email_verified
        self.users[email] = user

    def add_client(self, client_id: str, secret: str, redirect_uri: str, **kw: Any) -> Client:
        self.clients[client_id] = Client(client_id, secret, [redirect_uri], **kw)
        return self.clients[client_id]

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet(list(self.keys)).as_dict(private=False))

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> Client | None:
                return provider.clients.get(client_id)

            def save_token(self, token: dict[str, Any], request: Any) -> None:
                pass

            def create_oauth2_request(self, request: Request) -> Request:
                return request

            def handle_response(self, status: int, body: Any, headers: Any) -> Any:
                return status, body, headers

            def send_signal(self, *args: Any, **kwargs: Any) -> None:
                pass

        class Grant(AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ]

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=request.client.get_allowed_scope(data.get("scope", "")),
                    user=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    amr=provider.amr,
                    acr=provider.acr,
                )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                item = provider.codes.get(code)
                return item if item and item.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
                return authorization_code.user

        class IdToken(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, request: Any) -> bool:
                return False

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.keys[0]

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": str(provider.keys[0].kid)}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                return UserInfo(**user)

        class ClientAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
            CLIENT_AUTH_METHOD = "private_key_jwt"

            def get_audiences(self) -> list[str]:
                return [f"{provider.issuer}/token"]

            def validate_jti(self, claims: Any, jti: str) -> bool:
                return True

            def resolve_client_public_key(self, client: Client) -> KeySet:
                return KeySet.import_key_set(client.public_jwks or {"keys": []})  # type: ignore[arg-type]

        server = Server()
        server.register_token_generator(
            "default", BearerTokenGenerator(lambda *a, **k: secrets.token_urlsafe(32))
        )
        server.register_grant(Grant, [CodeChallenge(required=True), IdToken(require_nonce=True)])
        server.register_client_auth_method(ClientAssertion.CLIENT_AUTH_METHOD, ClientAssertion())
        return server

    # Misbehaviour: the ID token re-issued.
    def _tampered(self, id_token: str) -> str:
        claims = jwt.decode(id_token, self.keys[0]).claims
        claims.update(self.misbehave.get("claims", {}))
        for name in self.misbehave.get("drop", ()):
            claims.pop(name, None)
        sign_with = self.misbehave.get("sign_with")
        if sign_with == "hs-public":
            # The provider's public key used as an HMAC secret (signed by
            # hand: joserfc rightly refuses to build such a key).
            head = {"alg": "HS256", "kid": str(self.keys[0].kid)}
            signing_input = f"{_b64(json.dumps(head))}.{_b64(json.dumps(claims))}"
            secret = self.keys[0].as_pem(private=False)
            mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{_b64(mac)}"
        if sign_with == "none":
            return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{_b64(json.dumps(claims))}."
        key = new_key() if sign_with == "foreign" else self.keys[0]
        header = {"alg": "RS256", "kid": str(self.keys[0].kid)}
        if sign_with == "foreign":
            header["kid"] = str(key.kid)
        if sign_with == "foreign-same-kid":
            key = new_key()
        return jwt.encode(header, claims, key)

    # HTTP.
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        form: dict[str, str] = {}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        request = Request(environ, form)
        status, body, headers = self._route(path, request)
        payload = body if isinstance(body, str) else json.dumps(body)
        headers = list(headers) or [("Content-Type", "application/json")]
        start_response(f"{status} X", headers)
        return [payload.encode()]

    def _route(self, path: str, request: Request) -> tuple[int, Any, list[tuple[str, str]]]:
        if path == "/.well-known/openid-configuration":
            return 200, self.discovery(), []
        if path == "/jwks":
            return 200, self.jwks(), []
        if path == "/authorize":
            return self._authorize(request)
        if path == "/token":
            status, body, headers = self.server.create_token_response(request)
            if status == 200:
                token = json.loads(body) if isinstance(body, str) else dict(body)
                if self.misbehave:
                    token["id_token"] = self._tampered(token["id_token"])
                self.last_id_token = token["id_token"]
                body = token
            return status, body, list(headers)
        if path == "/logout":
            self.ended_sessions += 1
            target = request.args.get("post_logout_redirect_uri", "")
            return 302, "", [("Location", target)]
        return 404, {"error": "not_found"}, []

    def _authorize(self, request: Request) -> tuple[int, Any, list[tuple[str, str]]]:
        email = self.auto_login or request.form.get("email")
        try:
            grant = self.server.get_consent_grant(request)
        except OAuth2Error as error:
            return 400, {"error": error.error}, []
        if email is None:
            return 200, self._login_page(request), [("Content-Type", "text/html")]
        user = self.users.get(email)
        return self.server.create_authorization_response(request, grant_user=user, grant=grant)

    def _login_page(self, request: Request) -> str:
        options = "".join(
            f'<option value="{html.escape(e)}">{html.escape(e)}</option>' for e in self.users
        )
        action = html.escape(f"/authorize?{urlencode(request.args)}")
        return (
            "<!doctype html><title>Test OpenID provider</title><h1>Provider sign-in</h1>"
            f'<form method="post" action="{action}"><select name="email">{options}</select>'
            '<button id="provider-login" type="submit">Sign in</button></form>'
        )

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
        }


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def provider_serve(provider: OpenIDProvider) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``provider`` on a free loopback port; set its issuer."""
    httpd = make_server("127.0.0.1", 0, provider, _Server, _QuietHandler)
    provider.issuer = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread
