"""SAML endpoints of one site: the ACS and the metadata on pysaml2's public
API, each subclassed per audience (single logout: ``sso.saml.slo``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    BadRequest,
    ImproperlyConfigured,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from typing_extensions import override

from sso.saml.acs import saml_response_verify
from sso.saml.config import saml_settings_get_by_public_id, sp_config_get
from sso.saml.identity import identity_from_session_info
from sso.saml.models import SamlSettings
from sso.saml.testconnection import saml_test_finish, saml_test_nonce
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Audience, Protocol, Site
from tenants.selectors import site_is_usable

logger = logging.getLogger(__name__)


class SiteSamlMixin(View):
    """Resolve the site and its SAML settings; build nothing per request.

    A POST body over Django's DATA_UPLOAD_MAX_* limits, or one Django cannot
    read, is refused here, with a reason code and an audit row, on every
    SAML endpoint.
    """

    audience: Audience = Audience.AGENT
    site: Site | None
    saml: SamlSettings | None

    @override
    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        # Both from the site's record: no query once this process holds it.
        self.site, self.saml = saml_settings_get_by_public_id(
            site_id=kwargs["site_id"], audience=self.audience
        )

    @override
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 - read (and size-check) the body now
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
                request.POST = QueryDict()
                too_large = SignInRefused(
                    RefusalReason.SAML_TOO_LARGE, site=self.site, detail={"check": "body_size"}
                )
                return self.refuse(request, too_large)
            except (BadRequest, MultiPartParserError):
                request.POST = QueryDict()
                unreadable = SignInRefused(
                    RefusalReason.BAD_REQUEST, site=self.site, detail={"check": "body"}
                )
                return self.refuse(request, unreadable)
        return super().dispatch(request, *args, **kwargs)

    def get_sp_config(self, request: HttpRequest) -> SPConfig:
        assert self.saml is not None  # noqa: S101 - dispatch() refused otherwise
        return sp_config_get(request, settings=self.saml)

    def refuse(self, request: HttpRequest, refusal: SignInRefused) -> HttpResponse:
        return render_refusal(
            request, refusal, site=self.site, audience=self.audience, protocol=Protocol.SAML
        )

    def site_refusal(self) -> SignInRefused | None:
        if not site_is_usable(self.site):
            return SignInRefused(RefusalReason.SITE_DISABLED, site=self.site)
        if self.saml is None:
            return SignInRefused(RefusalReason.NOT_CONFIGURED, site=self.site)
        return None


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AgentAcsView(SiteSamlMixin):
    """Verify the IdP's answer (``sso.saml.acs``), then hand the identity to
    the session layer. The replay record, the success audit row and the
    session binding are written in one transaction, for a sign-in that
    completes only. The binding also holds what single logout needs (the
    NameID and SessionIndex, ``VerifiedIdentity.logout``): the SAML session
    is only read here, and written only to forget the answered request.
    """

    def post(self, request: HttpRequest, site_id: int) -> HttpResponse:
        refusal = self.site_refusal()
        encoded = request.POST.get("SAMLResponse") or ""
        if refusal is None and not encoded:
            refusal = SignInRefused(
                RefusalReason.BAD_REQUEST, site=self.site, detail={"check": "saml_response"}
            )
        if refusal is not None:
            return self.refuse(request, refusal)
        assert self.saml is not None  # noqa: S101
        assert self.site is not None  # noqa: S101
        # Issue 15: the answer to an operator's "test connection" signs no one in.
        nonce = saml_test_nonce(request, site=self.site, audience=self.audience, encoded=encoded)
        if nonce is not None:
            return saml_test_finish(request, settings=self.saml, encoded=encoded, nonce=nonce)
        try:
            verified = saml_response_verify(request, settings=self.saml, encoded=encoded)
            with transaction.atomic():
                identity = identity_from_session_info(
                    site=self.site,
                    settings=self.saml,
                    session_info=verified.session_info,
                    assertion_info=verified.assertion_info,
                )
                result = sign_in(
                    request, identity=identity, return_to=request.POST.get("RelayState") or None
                )
        except SignInRefused as exc:
            return self.refuse(request, exc)
        return HttpResponseRedirect(result.redirect_to)


@method_decorator(never_cache, name="dispatch")
class AgentMetadataView(SiteSamlMixin):
    """This site's SP metadata; its entityID is this page's absolute URL."""

    def get(self, request: HttpRequest, site_id: int) -> HttpResponse:
        refusal = self.site_refusal()
        if refusal is not None:
            return self.refuse(request, refusal)
        try:
            metadata = entity_descriptor(self.get_sp_config(request))
        except ImproperlyConfigured:
            logger.warning("SAML metadata: site %s has an unusable SP key", site_id)
            return self.refuse(request, SignInRefused(RefusalReason.NOT_CONFIGURED))
        return HttpResponse(str(metadata).encode(), content_type="text/xml; charset=utf-8")


# Visitor SSO: the same views for a separate SP entity per site (its own
# metadata URL, ACS and settings row), so an assertion issued for the agent
# SP never signs a visitor in, nor the reverse. The session layer sends the
# visitor to the RelayState the visitor login start set: the chat window's
# handoff page.
@method_decorator([csrf_exempt, never_cache], name="dispatch")
class VisitorAcsView(AgentAcsView):
    audience = Audience.VISITOR

    @override
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        # This page runs in the sign-in popup: Django's default COOP
        # (same-origin) would cut the popup off from the chat window that
        # opened it, so the handoff page could not post the code back.
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        response["Referrer-Policy"] = "no-referrer"
        return response


class VisitorMetadataView(AgentMetadataView):
    audience = Audience.VISITOR
