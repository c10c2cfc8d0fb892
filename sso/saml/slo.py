"""The single logout service (SLS) of a site's SP, agent and visitor.

Our own small view on pysaml2's public API (djangosaml2's LogoutView would
call ``auth.logout()`` itself): an IdP's LogoutRequest ends this browser's
session only through ``sign_out()``, and only when it is signed by the
site's IdP, names this session's own NameID (and SessionIndex, where given)
and was never seen before; a LogoutResponse must answer a LogoutRequest this
browser sent. Anything else is refused with a reason code and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from sso.saml.config import CLOCK_LEEWAY, saml_settings_get, sp_config_get, sp_urls
from sso.saml.logout import (
    MESSAGE_MAX_AGE,
    STATUS_SUCCESS,
    LogoutMessage,
    logout_message_check,
    logout_response_send,
    name_id_matches,
)
from sso.saml.models import SamlSettings
from sso.saml.state import saml_request_consume, saml_subject_forget, saml_subject_get
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import principal_from_session, sign_out
from tenants.models import Audience, Protocol, Site
from tenants.selectors import site_get_by_public_id
from tenants.services import token_consume

logger = logging.getLogger(__name__)
REPLAY_KIND = "saml_logout_request"


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AgentSlsView(View):
    """HTTP-Redirect (GET) and HTTP-POST (POST) single logout for agents.

    CSRF-exempt: the IdP's own page posts here; the signature is what
    authenticates the message.
    """

    audience: Audience = Audience.AGENT
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "POST"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        site = site_get_by_public_id(site_id=kwargs["site_id"])
        try:
            settings = self._settings(site)
            conf = sp_config_get(request, settings=settings)
            sls_url = sp_urls(request, site=settings.site, audience=self.audience)["sls"]
            message = logout_message_check(request, settings=settings, conf=conf, sls_url=sls_url)
            if message.is_request:
                return self._logout_request(request, settings, message)
            return self._logout_response(request, settings, message)
        except SignInRefused as exc:
            return render_refusal(
                request, exc, site=site, audience=self.audience, protocol=Protocol.SAML
            )

    def _settings(self, site: Site | None) -> SamlSettings:
        if site is None or not site.is_active:
            raise SignInRefused(RefusalReason.SITE_DISABLED, site=site)
        settings = saml_settings_get(site=site, audience=self.audience)
        if settings is None:
            raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site)
        settings.site = site  # already loaded: spare the FK query
        return settings

    def _logout_request(
        self, request: HttpRequest, settings: SamlSettings, message: LogoutMessage
    ) -> HttpResponse:
        site = settings.site
        detail = {"slo": True, "request_id": message.id[:80]}
        expires = timezone.now() + MESSAGE_MAX_AGE + dt.timedelta(seconds=3 * CLOCK_LEEWAY)
        if not token_consume(
            site=site, kind=REPLAY_KIND, value=message.id[:255], expires_at=expires
        ):
            raise SignInRefused(RefusalReason.REPLAY, site=site, detail=detail)
        principal = principal_from_session(request, audience=self.audience)
        if principal is not None:
            if principal.site_id != site.pk:
                # Another site's IdP has no say over this browser's session.
                raise SignInRefused(RefusalReason.WRONG_SITE, site=site, detail=detail)
            subject = saml_subject_get(request, site=site, audience=self.audience)
            if subject is None or not name_id_matches(subject.name_id, message.name_id):
                raise SignInRefused(
                    RefusalReason.SAML_LOGOUT_WRONG_SUBJECT, site=site, detail=detail
                )
            if message.session_indexes and subject.session_index not in message.session_indexes:
                raise SignInRefused(
                    RefusalReason.SAML_LOGOUT_WRONG_SESSION, site=site, detail=detail
                )
            sign_out(request, audience=self.audience)
            saml_subject_forget(request, site=site, audience=self.audience)
        # With no session here, there is nothing to end: the IdP still gets
        # its answer, so that its logout of the other services goes on.
        conf = sp_config_get(request, settings=settings)
        response = logout_response_send(conf=conf, settings=settings, message=message)
        return response or self._done()

    def _logout_response(
        self, request: HttpRequest, settings: SamlSettings, message: LogoutMessage
    ) -> HttpResponse:
        if not message.in_response_to or not saml_request_consume(
            request,
            site=settings.site,
            audience=self.audience,
            request_id=message.in_response_to,
            kind="logout",
        ):
            raise SignInRefused(
                RefusalReason.SAML_LOGOUT_UNSOLICITED,
                site=settings.site,
                detail={"slo": True, "in_response_to": message.in_response_to[:80]},
            )
        if message.status != STATUS_SUCCESS:
            # The local session ended before the request was sent; only the
            # IdP's own session may live on.
            logger.info(
                "SLO: the IdP of site %s answered status=%s",
                settings.site.site_id,
                message.status[-40:],
            )
        return self._done()

    def _done(self) -> HttpResponse:
        return HttpResponseRedirect(reverse("agent-login"))


class VisitorSlsView(AgentSlsView):
    """The visitor SP's single logout (its own entity, settings and NameID)."""

    audience = Audience.VISITOR

    def _done(self) -> HttpResponse:
        return HttpResponse("You are signed out.", content_type="text/plain; charset=utf-8")
