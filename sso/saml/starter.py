"""Start and end a site's SAML sign-in: the AuthnRequest and single logout.

Listed in the registry of sign-in methods, ``sso.starters.METHODS``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from djangosaml2.cache import IdentityCache, OutstandingQueriesCache, StateCache
from djangosaml2.overrides import Saml2Client
from djangosaml2.utils import get_location
from djangosaml2.views import _get_subject_id
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.s_utils import UnsupportedBinding

from sso.saml.config import saml_settings_get, sp_config_get
from sso.saml.models import SamlSettings
from tenants.models import Audience, Site

logger = logging.getLogger(__name__)


def saml_start(
    request: HttpRequest, site: Site, audience: Audience, return_to: str | None
) -> HttpResponse | None:
    """Send the browser to the site's IdP with an AuthnRequest, or return
    None when the site has no enabled SAML settings for ``audience``.

    The request's ID is remembered in djangosaml2's SAML session (a cookie
    of its own), so the ACS accepts only the answer to a request this
    browser started. ``return_to`` was checked by the caller and travels as
    RelayState; the ACS checks it again, since it comes back from outside.
    """
    settings = saml_settings_get(site=site, audience=audience)
    if settings is None:
        return None
    settings.site = site
    client = Saml2Client(sp_config_get(request, settings=settings))
    post = settings.sso_binding == SamlSettings.Binding.POST
    session_id, info = client.prepare_for_authenticate(
        entityid=settings.idp_entity_id,
        relay_state=return_to or "",
        binding=BINDING_HTTP_POST if post else BINDING_HTTP_REDIRECT,
    )
    OutstandingQueriesCache(request.saml_session).set(  # type: ignore[attr-defined]
        session_id, return_to or ""
    )
    if post:
        return HttpResponse(info["data"])
    return HttpResponseRedirect(get_location(info))


def saml_logout(request: HttpRequest, site: Site, audience: Audience) -> HttpResponse | None:
    """Send a LogoutRequest to the IdP, if the site has an SLO URL and this
    browser signed in with SAML; else return None (local sign-out only).
    """
    settings = saml_settings_get(site=site, audience=audience)
    subject_id = _get_subject_id(request.saml_session)  # type: ignore[attr-defined]
    if settings is None or subject_id is None:
        return None
    if not settings.slo_url and "SingleLogoutService" not in settings.idp_metadata_xml:
        return None
    state = StateCache(request.saml_session)  # type: ignore[attr-defined]
    client = Saml2Client(
        sp_config_get(request, settings=settings),
        state_cache=state,
        identity_cache=IdentityCache(request.saml_session),  # type: ignore[attr-defined]
    )
    try:
        result = client.global_logout(subject_id)
    except UnsupportedBinding:
        logger.info("SLO: the IdP of site %s has no usable logout binding", site.site_id)
        return None
    finally:
        state.sync()
    for outcome in (result or {}).values():
        if isinstance(outcome, tuple):
            binding, http_info = outcome
            if binding == BINDING_HTTP_POST:
                return HttpResponse("".join(http_info["data"]))
            return HttpResponseRedirect(get_location(http_info))
    return None
