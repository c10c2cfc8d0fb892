"""The demo customer's own login page, which issues the JWT.

In the demo, site 10003 ("Demo JWT Co") sends its agents here to
authenticate; this page stands in for the customer's system: pick an agent
(or type an email), and it signs an RS256 token with a demo key and sends
the browser back to the ``return_to`` it was given, posting ``jwt`` in an
auto-submitting form (``post_token``), as we advise customers to. The
private key is generated at first use into a git-ignored folder
(``SSO_DEVIDP_DIR``, default ``var/devidp/``); never use it anywhere else.
"""

from __future__ import annotations

import time
import uuid
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from tenants.models import Agent
from tenants.selectors import site_get_by_public_id

DEMO_SITE_ID = 10003
KEY_ID = "devidp-1"
ISSUER = "urn:sso-gateway:devidp"
TOKEN_SECONDS = 120


def audience_for(site_id: int) -> str:
    """Return the ``aud`` the demo tokens carry for ``site_id``."""
    return f"urn:sso-gateway:site:{site_id}"


def key_dir() -> Path:
    return Path(getattr(settings, "SSO_DEVIDP_DIR", settings.BASE_DIR / "var" / "devidp"))


@lru_cache(maxsize=4)
def _private_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return key


def demo_private_key() -> rsa.RSAPrivateKey:
    """Return the demo signing key, generating it on first use."""
    return _private_key(key_dir() / "jwt_signing_key.pem")


def demo_public_pem() -> str:
    """Return the demo key's public half, as sites are configured with it."""
    return (
        demo_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def demo_token(*, site_id: int, email: str, name: str = "", mfa: bool = True) -> str:
    """Return a fresh RS256 token for ``email`` at ``site_id``."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience_for(site_id),
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
        "email": email,
        "name": name,
        "amr": ["pwd", "otp"] if mfa else ["pwd"],
    }
    return jwt.encode(claims, demo_private_key(), algorithm="RS256", headers={"kid": KEY_ID})


def post_token(request: HttpRequest, *, return_to: str, token: str) -> HttpResponse:
    """Send ``token`` to ``return_to`` in a self-submitting form post.

    A token in a query string ends up in access logs, browser history and
    Referer headers; in a form body it does not.
    """
    response = render(request, "devidp/jwt_post.html", {"return_to": return_to, "token": token})
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _site_id_of(return_to: str) -> int:
    try:
        match = resolve(urlsplit(return_to).path)
    except Resolver404:
        return DEMO_SITE_ID
    return int(match.kwargs.get("site_id", DEMO_SITE_ID))


@never_cache
def jwt_login(request: HttpRequest) -> HttpResponse:
    """Show the demo login (GET); sign a token and go back to return_to (POST)."""
    return_to = request.GET.get("return_to", "")
    # Only back to this service, as a real customer's login would insist
    # (127.0.0.1 and localhost are the same demo server).
    port = request.get_port()
    hosts = {request.get_host(), f"127.0.0.1:{port}", f"localhost:{port}"}
    if not url_has_allowed_host_and_scheme(return_to, allowed_hosts=hosts):
        return HttpResponseBadRequest("return_to must point at this service.")
    site_id = _site_id_of(return_to)
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        token = demo_token(site_id=site_id, email=email, mfa=bool(request.POST.get("mfa")))
        return post_token(request, return_to=return_to, token=token)
    site = site_get_by_public_id(site_id=site_id)
    agents = Agent.objects.for_site(site).order_by("email") if site else Agent.objects.none()
    context = {"site": site, "agents": agents, "return_to": return_to}
    return render(request, "devidp/jwt_login.html", context)


def jwt_logged_out(request: HttpRequest) -> HttpResponse:
    """The demo customer's page after the remote logout."""
    return render(request, "devidp/jwt_logged_out.html")
