"""Start and end a site's SAML sign-in: the AuthnRequest and single logout.

Registered in ``sso.starters.STARTERS`` and ``sso_site.signin.hooks`` by
``SamlConfig.ready()``.
"""

from __future__ import annotations

import logging

import lxml.etree
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.pack import http_form_post_message

from sso.saml.bindings import redirect_url_build
from sso.saml.config import saml_settings_get, sp_config_get
from sso.saml.crypto import xml_parse
from sso.saml.logout import idp_endpoint, logout_request_send
from sso.saml.models import SamlSettings
from sso.saml.signing import xml_sign
from sso.saml.state import saml_request_remember, saml_subject_forget, saml_subject_get
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Audience, Site

logger = logging.getLogger(__name__)
# SAML Bindings 3.4.3/3.5.3: RelayState at most 80 bytes is all an IdP must
# keep; ours is a checked local path, so a little more is fine.
RELAY_STATE_MAX = 1024


def saml_start(
    request: HttpRequest, site: Site, audience: Audience, return_to: str | None
) -> HttpResponse | None:
    """Send the browser to the site's IdP with an AuthnRequest, or return
    None when the site has no enabled SAML settings for ``audience``.

    The request's ID is remembered in this browser's SAML session for this
    site and audience (``sso.saml.state``), so the ACS accepts only the
    answer to a request this browser started there, once. ``return_to`` was
    checked by the caller and travels as RelayState; the ACS checks it again,
    since it comes back from outside.
    """
    settings = saml_settings_get(site=site, audience=audience)
    if settings is None:
        return None
    settings.site = site
    session_id, response = _authn_request(
        sp_config_get(request, settings=settings), settings, relay_state=return_to or ""
    )
    saml_request_remember(
        request, site=site, audience=audience, request_id=session_id, return_to=return_to or ""
    )
    return response


def _authn_request(
    conf: SPConfig, settings: SamlSettings, *, relay_state: str
) -> tuple[str, HttpResponse]:
    """Return the AuthnRequest's ID and the response that sends it: signed
    with the site's SP key (SHA-256) where the site asks for it, through
    ``sso.saml.signing`` (the key per call, never in pysaml2's shared signers).
    """
    preferred = (
        BINDING_HTTP_POST
        if settings.sso_binding == SamlSettings.Binding.POST
        else BINDING_HTTP_REDIRECT
    )
    other = BINDING_HTTP_REDIRECT if preferred == BINDING_HTTP_POST else BINDING_HTTP_POST
    endpoint = idp_endpoint(conf, settings, "single_sign_on_service", (preferred, other))
    if endpoint is None:  # idp_metadata_parse made sure there is one
        raise ImproperlyConfigured(f"SAML settings {settings.pk}: no SingleSignOnService")
    binding, location = endpoint
    session_id, message = Saml2Client(conf).create_authn_request(
        location, binding=BINDING_HTTP_POST, sign=False
    )
    if len(relay_state) > RELAY_STATE_MAX:
        raise SignInRefused(
            RefusalReason.BAD_REQUEST, site=settings.site, detail={"why": "RelayState too long"}
        )
    sign = settings.authn_requests_signed
    if binding == BINDING_HTTP_REDIRECT:
        key = conf.sso_signing_key if sign else None
        url = redirect_url_build(
            location, param="SAMLRequest", xml=str(message), relay_state=relay_state, key=key
        )
        return str(session_id), HttpResponseRedirect(url)
    root = xml_parse(str(message))
    if sign:
        xml_sign(root, key_file=conf.key_file, cert_file=conf.cert_file)
    info = http_form_post_message(
        lxml.etree.tostring(root).decode(), location, relay_state, typ="SAMLRequest"
    )
    return str(session_id), HttpResponse(info["data"])


def saml_logout(request: HttpRequest, site: Site, audience: Audience) -> HttpResponse | None:
    """Send a signed LogoutRequest to the IdP, if it has a SingleLogoutService
    and this browser signed in with SAML at ``site``; else return None (the
    local sign-out, already done by ``sign_out()``, is all there is).
    """
    settings = saml_settings_get(site=site, audience=audience)
    subject = saml_subject_get(request, site=site, audience=audience)
    if settings is None or subject is None or subject.name_id is None:
        return None
    settings.site = site
    sent = logout_request_send(
        conf=sp_config_get(request, settings=settings),
        settings=settings,
        name_id=subject.name_id,
        session_index=subject.session_index,
    )
    saml_subject_forget(request, site=site, audience=audience)
    if sent is None:
        return None
    request_id, response = sent
    saml_request_remember(
        request, site=site, audience=audience, request_id=request_id, kind="logout"
    )
    return response
