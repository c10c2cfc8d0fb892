"""The development IdP's pages: pick a demo agent (or, for a site's visitor
SP, a demo visitor), get a signed assertion.

Demo only: there is no password here, anyone can be anyone. The SP it
answers must be one of this server's own SAML SPs, found by resolving the
AuthnRequest's issuer (the SP's metadata URL) on this host.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from saml2 import BINDING_HTTP_REDIRECT
from saml2.server import Server
from saml2.xmldsig import SIG_RSA_SHA256

from devidp.chat_demo import visitor_saml_attributes, visitor_saml_people
from devidp.demo_saml import dev_idp
from devidp.idp import MFA_CONTEXT, PASSWORD_CONTEXT, DevIdp
from tenants.models import Agent, Audience

SP_METADATA_VIEWS = {
    "agent-saml-metadata": Audience.AGENT,
    "visitor-saml-metadata": Audience.VISITOR,
}


def _idp(request: HttpRequest) -> DevIdp:
    return dev_idp(base_url=request.build_absolute_uri("/").rstrip("/"))


def _other_loopback_name(host: str) -> str | None:
    """The other name of this loopback host and port (127.0.0.1 <-> localhost)."""
    name, sep, port = host.rpartition(":") if ":" in host else (host, "", "")
    others = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    return f"{others[name]}{sep}{port}" if name in others else None


def _sp_metadata(request: HttpRequest, entity_id: str) -> tuple[str, int, Audience]:
    """Return the metadata of one of our own SPs, its site ID and audience."""
    parts = urlsplit(entity_id)
    if parts.netloc != request.get_host():
        raise Http404("Unknown service provider")
    try:
        match = resolve(parts.path)
    except Resolver404 as exc:
        raise Http404("Unknown service provider") from exc
    audience = SP_METADATA_VIEWS.get(match.url_name or "")
    if audience is None:
        raise Http404("Unknown service provider")
    inner = RequestFactory().get(parts.path, HTTP_HOST=parts.netloc, secure=parts.scheme == "https")
    response = match.func(inner, *match.args, **match.kwargs)
    if response.status_code != 200:
        raise Http404("Service provider not configured")
    return response.content.decode(), int(match.kwargs["site_id"]), audience


@lru_cache(maxsize=32)
def _server(idp: DevIdp, sp_metadata: str) -> Server:
    return idp.server([sp_metadata])


def idp_metadata(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_idp(request).metadata_xml(), content_type="text/xml; charset=utf-8")


@never_cache
@csrf_exempt  # the form carries the signed SAMLRequest, not a session
def idp_sso(request: HttpRequest) -> HttpResponse:
    """Show the demo site's agents, or demo visitors for a visitor SP (GET);
    answer for the one picked (POST).
    """
    data = request.POST if request.method == "POST" else request.GET
    saml_request = data.get("SAMLRequest", "")
    relay_state = data.get("RelayState", "")
    idp = _idp(request)
    try:
        parsed = idp.server([]).parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        entity_id = parsed.message.issuer.text
    except Exception:  # pysaml2 raises many kinds on a bad request
        raise SuspiciousOperation("unreadable SAMLRequest") from None
    sp_host = urlsplit(entity_id).netloc
    if sp_host != request.get_host() and sp_host == _other_loopback_name(request.get_host()):
        # The demo IdP was set up for this name; the answer would be a
        # cross-site POST to the other, without its (SameSite=Lax) session
        # cookie, so the sign-in could never complete: say so.
        context = {"idp_host": request.get_host(), "sp_host": sp_host, "scheme": request.scheme}
        return render(request, "devidp/other_host.html", context, status=400)
    sp_metadata, site_id, audience = _sp_metadata(request, entity_id)
    visitor = audience == Audience.VISITOR
    if request.method != "POST":
        people = (
            visitor_saml_people()
            if visitor
            else Agent.objects.filter(site__site_id=site_id, is_active=True).order_by("email")
        )
        context = {
            "agents": people,
            "visitor": visitor,
            "site_id": site_id,
            "saml_request": saml_request,
            "relay_state": relay_state,
        }
        return _in_popup(render(request, "devidp/pick.html", context), visitor=visitor)
    email = (request.POST.get("email") or request.POST.get("other_email") or "").strip()
    server = _server(idp, sp_metadata)
    acs_url = server.metadata.assertion_consumer_service(entity_id)[0]["location"]
    xml = idp.authn_response(
        server,
        sp_entity_id=entity_id,
        acs_url=acs_url,
        email=email,
        in_response_to=parsed.message.id,
        authn_context=MFA_CONTEXT if request.POST.get("mfa") else PASSWORD_CONTEXT,
        attributes=visitor_saml_attributes(email) if visitor else None,
    )
    context = {
        "acs_url": acs_url,
        "saml_response": base64.b64encode(xml.encode()).decode(),
        "relay_state": relay_state,
        "email": email,
    }
    return _in_popup(render(request, "devidp/post.html", context), visitor=visitor)


def _in_popup(response: HttpResponse, *, visitor: bool) -> HttpResponse:
    # A visitor signs in in a popup of the chat window, which must keep its
    # opener all the way to the handoff page (see sso.visitor).
    if visitor:
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


@never_cache
def idp_slo(request: HttpRequest) -> HttpResponse:
    """Answer an SP's LogoutRequest: there is no IdP session to end here."""
    idp = _idp(request)
    try:
        parsed = idp.server([]).parse_logout_request(
            request.GET.get("SAMLRequest", ""), BINDING_HTTP_REDIRECT
        )
        entity_id = parsed.message.issuer.text
    except Exception:  # pysaml2 raises many kinds on a bad request
        raise SuspiciousOperation("unreadable SAMLRequest") from None
    sp_metadata, _, _ = _sp_metadata(request, entity_id)
    server = _server(idp, sp_metadata)
    response = server.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT])
    destination = server.metadata.single_logout_service(entity_id, BINDING_HTTP_REDIRECT, "spsso")[
        0
    ]["location"]
    http = server.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        destination,
        request.GET.get("RelayState", ""),
        response=True,
        sign=True,  # SPs check the query-string signature (SAML Bindings 3.4.4.1)
        sigalg=SIG_RSA_SHA256,
    )
    return HttpResponseRedirect(dict(http["headers"])["Location"])
