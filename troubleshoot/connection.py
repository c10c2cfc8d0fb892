"""Start a "test connection" round trip (``sso.testconnection``) and turn its
stored outcome into a report for the result page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sso.jwt.flows import RETURN_TO, url_with_params
from sso.jwt.selectors import jwt_settings_get_enabled
from sso.saml.starter import saml_start
from sso.testconnection import TEST_PARAM, TEST_PREFIX, test_start
from sso_site.signin.refusals import RefusalReason
from tenants.models import Audience, Protocol, Site
from troubleshoot.dryrun import Report, Step, steps_merge


def connection_test_start(
    request: HttpRequest, *, site: Site, audience: Audience, protocol: Protocol
) -> HttpResponse | None:
    """Send the browser to the site's IdP for a test sign-in; None if not set up."""
    nonce = test_start(
        site=site, audience=audience, protocol=protocol, user_pk=int(request.user.pk or 0)
    )
    if protocol == Protocol.SAML:
        return saml_start(request, site, audience, TEST_PREFIX + nonce)
    config = jwt_settings_get_enabled(site=site, audience=audience)
    if audience != Audience.AGENT or config is None or not config.login_url:
        return None  # visitor tokens come from the chat window, not a redirect
    callback = request.build_absolute_uri(
        reverse("sso:agent-jwt", kwargs={"site_id": site.site_id})
    )
    callback = url_with_params(callback, **{TEST_PARAM: nonce})
    return HttpResponseRedirect(url_with_params(config.login_url, **{RETURN_TO: callback}))


def report_from_result(found: dict[str, Any], result: dict[str, Any]) -> Report:
    report = Report(protocol=Protocol(found["protocol"]), audience=Audience(found["audience"]))
    report.steps = steps_merge([(name, values) for name, values in result["passed"]])
    if result["reason"]:
        report.reason = RefusalReason(result["reason"])
        report.failed_check = result["check"]
        report.steps.append(Step(report.failed_check, ok=False))
    report.values = {"claims or attributes received": ", ".join(result.get("claims") or [])}
    return report
