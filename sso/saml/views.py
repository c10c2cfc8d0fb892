"""SAML endpoints of one site: djangosaml2's views, subclassed per site."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from djangosaml2.cache import OutstandingQueriesCache
from djangosaml2.views import AssertionConsumerServiceView, LogoutView, MetadataView
from saml2.config import SPConfig
from typing_extensions import override

from campaigns.models import Visitor
from sso.saml.checks import refusal_for, response_precheck
from sso.saml.config import saml_settings_get, sp_config_get, sp_urls
from sso.saml.identity import identity_from_session_info, subject_id_remember
from sso.saml.models import SamlSettings
from sso_site.signin.identity import SignInResult
from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Agent, Audience, LoginEvent, Protocol, Site
from tenants.selectors import site_get_by_public_id, site_is_usable
from tenants.services import audit_record

logger = logging.getLogger(__name__)


class SiteSamlMixin(View):
    """Resolve the site and its SAML settings; build nothing per request."""

    audience: Audience = Audience.AGENT
    site: Site | None
    saml: SamlSettings | None

    @override
    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.site = site_get_by_public_id(site_id=kwargs["site_id"])
        self.saml = None
        if self.site is not None:
            self.saml = saml_settings_get(site=self.site, audience=self.audience)
        if self.saml is not None and self.site is not None:
            self.saml.site = self.site  # already loaded: spare the FK query

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
class AgentAcsView(SiteSamlMixin, AssertionConsumerServiceView):  # type: ignore[misc]
    """Verify the IdP's answer, then hand the identity to the session layer."""

    result: SignInResult

    @override
    def post(self, request: HttpRequest, site_id: int) -> HttpResponse:
        refusal = self.site_refusal()
        if refusal is None and "SAMLResponse" not in request.POST:
            refusal = SignInRefused(RefusalReason.BAD_REQUEST, site=self.site)
        if refusal is not None:
            return self.refuse(request, refusal)
        assert self.saml is not None  # noqa: S101
        saml_session = request.saml_session  # type: ignore[attr-defined]
        outstanding = OutstandingQueriesCache(saml_session).outstanding_queries()
        try:
            self.assertion_id = response_precheck(
                request.POST["SAMLResponse"],
                acs_url=sp_urls(request, site=self.saml.site, audience=self.audience)["acs"],
                allow_sha1=self.saml.allow_sha1,
                allow_unsolicited=self.saml.allow_idp_initiated,
                outstanding=outstanding,
            )
        except SignInRefused as exc:
            return self.refuse(request, exc)
        response: HttpResponse = super().post(request)
        return response

    @override
    def handle_acs_failure(
        self,
        request: HttpRequest,
        exception: BaseException | None = None,
        status: int = 403,
        **kwargs: Any,
    ) -> HttpResponse:
        if isinstance(exception, SignInRefused):
            return self.refuse(request, exception)
        reason = refusal_for(exception) if exception else RefusalReason.SAML_MALFORMED
        detail = {"assertion_id": getattr(self, "assertion_id", "")[:80]}
        return self.refuse(request, SignInRefused(reason, site=self.site, detail=detail))

    @override
    def authenticate_user(
        self,
        request: HttpRequest,
        session_info: dict[str, Any],
        attribute_mapping: Any,
        create_unknown_user: Any,
        assertion_info: dict[str, Any],
    ) -> Agent | Visitor:
        assert self.site is not None  # noqa: S101
        assert self.saml is not None  # noqa: S101
        identity = identity_from_session_info(
            site=self.site,
            settings=self.saml,
            session_info=session_info,
            assertion_info=assertion_info,
        )
        self.result = sign_in(
            request, identity=identity, return_to=request.POST.get("RelayState") or None
        )
        subject_id_remember(request, session_info=session_info)
        return self.result.principal

    @override
    def custom_redirect(self, user: Any, relay_state: str, session_info: Any) -> str:
        return self.result.redirect_to


@method_decorator(never_cache, name="dispatch")
class AgentMetadataView(SiteSamlMixin, MetadataView):  # type: ignore[misc]
    """This site's SP metadata; its entityID is this page's absolute URL."""

    @override
    def get(self, request: HttpRequest, site_id: int) -> HttpResponse:
        refusal = self.site_refusal()
        if refusal is not None:
            return self.refuse(request, refusal)
        response: HttpResponse = super().get(request)
        return response


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AgentSlsView(SiteSamlMixin, LogoutView):  # type: ignore[misc]
    """Single logout: the IdP's LogoutResponse (we started) or its
    LogoutRequest (it started). djangosaml2 ends the Django session; the
    sign-out is recorded here, and the browser lands on the login page.
    """

    @override
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refusal = self.site_refusal()
        if refusal is not None:
            return self.refuse(request, refusal)
        agent = getattr(request, "agent", None)
        if agent is not None and self.site is not None and agent.site.pk != self.site.pk:
            # Another site's IdP has no say over this browser's session.
            wrong = SignInRefused(RefusalReason.WRONG_SITE, site=agent.site, subject=agent.email)
            return self.refuse(request, wrong)
        response = super().dispatch(request)
        if agent is not None and session_key_for(self.audience) not in request.session:
            audit_record(
                request,
                site=agent.site,
                audience=self.audience,
                protocol=Protocol.SAML,
                outcome=LoginEvent.Outcome.SIGNED_OUT,
                subject=agent.email,
                detail={"slo": True},
            )
        data = request.POST if request.method == "POST" else request.GET
        if "SAMLResponse" in data and response.status_code < HTTPStatus.BAD_REQUEST:
            return HttpResponseRedirect(reverse("agent-login"))
        return response


# Visitor SSO: the same views for a separate SP entity per site (its own
# metadata URL, ACS and settings row), so an assertion issued for the agent
# SP never signs a visitor in, nor the reverse. The session layer sends the
# visitor to the RelayState the visitor login start set: the chat window's
# handoff page.
class VisitorAcsView(AgentAcsView):
    audience = Audience.VISITOR


class VisitorMetadataView(AgentMetadataView):
    audience = Audience.VISITOR


class VisitorSlsView(AgentSlsView):
    audience = Audience.VISITOR
