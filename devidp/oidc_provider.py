"""The development IdP as an OpenID provider, on authlib's server side.

Demo only (mounted with ``SSO_DEMO``): one client, ``CLIENT_ID``, whose
redirect URIs are this service's own OpenID Connect callbacks; a page to
pick a demo agent (with or without MFA, sent as ``amr``); ID tokens signed
with the development IdP's demo key. Codes live in the cache for a minute.
"""

from __future__ import annotations

import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.django_oauth2.requests import DjangoJsonRequest, DjangoOAuth2Request
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from joserfc.jwk import KeySet, RSAKey

from devidp.jwt_login import demo_private_key, key_dir
from tenants.models import Agent
from tenants.selectors import site_get_by_public_id

CLIENT_ID = "sso-gateway-demo"
CLIENT_SECRET = "demo-oidc-client-secret-not-for-production"  # noqa: S105 - demo only
CODE_SECONDS = 60


def issuer_for(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("devidp:oidc-discovery")).removesuffix(
        "/.well-known/openid-configuration"
    )


def _signing_key() -> RSAKey:
    return _signing_key_in(key_dir())


@lru_cache(maxsize=4)
def _signing_key_in(folder: Path) -> RSAKey:
    pem = demo_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = RSAKey.import_key(pem, {"use": "sig", "alg": "RS256"})
    # The kid is the key's thumbprint (RFC 7638): a new demo key is a new kid,
    # so relying parties fetch the JWKS again instead of refusing.
    key.ensure_kid()
    return key


class DemoClient(ClientMixin):  # type: ignore[misc]
    client_id = CLIENT_ID

    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        try:
            match = resolve(urlsplit(redirect_uri).path)
        except Resolver404:
            return False
        return match.view_name == "sso:agent-oidc-callback"

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret or "", CLIENT_SECRET)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class DemoCode(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.code_challenge = data.get("code_challenge")
        self.code_challenge_method = data.get("code_challenge_method")

    def get_redirect_uri(self) -> str:
        return str(self.data["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.data["scope"])

    def get_nonce(self) -> str | None:
        return self.data.get("nonce")

    def get_auth_time(self) -> int:
        return int(self.data["auth_time"])

    def get_amr(self) -> list[str]:
        return list(self.data["amr"])


class Server(AuthorizationServer):  # type: ignore[misc]
    def query_client(self, client_id: str) -> DemoClient | None:
        return DemoClient() if client_id == CLIENT_ID else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass

    def create_oauth2_request(self, request: HttpRequest) -> DjangoOAuth2Request:
        return DjangoOAuth2Request(request)

    def create_json_request(self, request: HttpRequest) -> DjangoJsonRequest:
        return DjangoJsonRequest(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> HttpResponse:
        response = JsonResponse(body, status=status, safe=False)
        for name, value in headers:
            if name.lower() != "content-type":
                response[name] = value
        return response

    def send_signal(self, *args: Any, **kwargs: Any) -> None:
        pass


class Grant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        cache.set(
            f"devidp:oidc:code:{code}",
            {
                "redirect_uri": data.get("redirect_uri", ""),
                "scope": DemoClient().get_allowed_scope(data.get("scope", "")),
                "nonce": data.get("nonce"),
                "code_challenge": data.get("code_challenge"),
                "code_challenge_method": data.get("code_challenge_method"),
                "user": request.user,
                "amr": ["pwd", "otp"] if data.get("mfa") else ["pwd"],
                "auth_time": int(time.time()),
            },
            timeout=CODE_SECONDS,
        )

    def query_authorization_code(self, code: str, client: DemoClient) -> DemoCode | None:
        data = cache.get(f"devidp:oidc:code:{code}")
        if data is None:
            return None
        item = DemoCode(data)
        item.code = code
        return item

    def delete_authorization_code(self, authorization_code: DemoCode) -> None:
        cache.delete(f"devidp:oidc:code:{authorization_code.code}")

    def authenticate_user(self, authorization_code: DemoCode) -> dict[str, Any]:
        return dict(authorization_code.data["user"])


class IdToken(OpenIDCode):  # type: ignore[misc]
    issuer = ""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False

    def resolve_client_private_key(self, client: DemoClient) -> RSAKey:
        return _signing_key()

    def get_client_algorithm(self, client: DemoClient) -> str:
        return "RS256"

    def get_encode_header(self, client: DemoClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(_signing_key().kid)}

    def get_client_claims(self, client: DemoClient) -> dict[str, Any]:
        return {"iss": IdToken.issuer, "aud": [CLIENT_ID]}

    def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
        return UserInfo(**user)


server = Server()
server.register_token_generator(
    "default", BearerTokenGenerator(lambda *args, **kwargs: secrets.token_urlsafe(32))
)
server.register_grant(Grant, [CodeChallenge(required=True), IdToken(require_nonce=True)])


def discovery(request: HttpRequest) -> JsonResponse:
    issuer = issuer_for(request)
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": request.build_absolute_uri(reverse("devidp:oidc-authorize")),
            "token_endpoint": request.build_absolute_uri(reverse("devidp:oidc-token")),
            "jwks_uri": request.build_absolute_uri(reverse("devidp:oidc-jwks")),
            "end_session_endpoint": request.build_absolute_uri(reverse("devidp:oidc-logout")),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
    )


def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(KeySet([_signing_key()]).as_dict(private=False))


@never_cache
def authorize(request: HttpRequest) -> HttpResponse:
    """Show the demo agents to pick from (GET); answer with a code (POST)."""
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return JsonResponse({"error": error.error}, status=400)
    site_id = _site_id_of(grant.request.payload.redirect_uri)
    site = site_get_by_public_id(site_id=site_id) if site_id else None
    if request.method != "POST":
        agents = Agent.objects.for_site(site).filter(is_active=True) if site else []
        context = {"agents": agents, "site_id": site_id}
        return render(request, "devidp/oidc_pick.html", context)
    email = request.POST.get("email", "").strip()
    user = {"sub": f"devidp:{email}", "email": email, "email_verified": True}
    response: HttpResponse = server.create_authorization_response(
        request, grant_user=user, grant=grant
    )
    return response


def _site_id_of(redirect_uri: str) -> int | None:
    try:
        return int(resolve(urlsplit(redirect_uri).path).kwargs["site_id"])
    except (Resolver404, KeyError, ValueError):
        return None


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    IdToken.issuer = issuer_for(request)
    try:
        response: HttpResponse = server.create_token_response(request)
    except OAuth2Error as error:  # e.g. plain http to a host that is not loopback
        return JsonResponse({"error": error.error}, status=400)
    return response


def logout(request: HttpRequest) -> HttpResponse:
    """End the (stateless) provider session; go back where asked, on this host."""
    target = request.GET.get("post_logout_redirect_uri", "")
    if urlsplit(target).netloc == request.get_host():
        return HttpResponseRedirect(target)
    return HttpResponse("Signed out of the development IdP.")
