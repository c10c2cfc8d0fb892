"""Admin pages of the troubleshooting console; each needs a staff user who
operates the site (superusers: every site). Thin: forms, selectors, dry runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import site as admin_site
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from sso.testconnection import test_get
from tenants.admin import operator_sites
from tenants.models import Audience, Protocol, Site
from troubleshoot.connection import connection_test_start, report_from_result
from troubleshoot.dryrun import Report, jwt_dry_run, saml_dry_run
from troubleshoot.forms import ConsoleForm
from troubleshoot.selectors import (
    capture_get,
    site_health,
    site_refusals_captured,
    site_setup_values,
)


def operated_site(request: HttpRequest, site_pk: int) -> Site:
    """Return the site ``site_pk`` if the request's user operates it; else 404."""
    site = operator_sites(request).filter(pk=site_pk).first()
    if site is None:
        raise Http404("No such site.")
    return site


def _context(request: HttpRequest, site: Site, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin_site.each_context(request), "title": title, "site_obj": site, **extra}


def dry_run(request: HttpRequest, *, site: Site, audience: str, protocol: str, text: str) -> Report:
    if protocol == Protocol.JWT:
        return jwt_dry_run(site=site, audience=Audience(audience), token=text)
    return saml_dry_run(request, site=site, audience=Audience(audience), text=text)


def console_view(request: HttpRequest, site_pk: int) -> HttpResponse:
    """Paste (or upload, or replay a capture of) a SAML response or a JWT."""
    site = operated_site(request, site_pk)
    report: Report | None = None
    capture: dict[str, Any] | None = None
    if request.method == "POST":
        form = ConsoleForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            report = dry_run(
                request,
                site=site,
                audience=data["audience"],
                protocol=data["protocol"],
                text=data["text"],
            )
    elif request.GET.get("capture", "").isdigit():
        capture = capture_get(site=site, pk=int(request.GET["capture"]))
        if capture is None:
            raise Http404("No such capture, or it has expired.")
        initial = {
            "audience": capture["audience"],
            "protocol": capture["kind"],
            "text": capture["text"],
        }
        form = ConsoleForm(initial=initial)
        report = dry_run(
            request,
            site=site,
            audience=capture["audience"],
            protocol=capture["kind"],
            text=capture["text"],
        )
    else:
        form = ConsoleForm()
    context = _context(
        request, site, f"Test console: {site}", form=form, report=report, capture=capture
    )
    return TemplateResponse(request, "admin/troubleshoot/console.html", context)


def refusals_view(request: HttpRequest, site_pk: int) -> HttpResponse:
    """The site's latest refusals, with links replaying their captures."""
    site = operated_site(request, site_pk)
    context = _context(
        request, site, f"Recent refusals: {site}", events=site_refusals_captured(site=site)
    )
    return TemplateResponse(request, "admin/troubleshoot/refusals.html", context)


def setup_view(request: HttpRequest, site_pk: int) -> HttpResponse:
    """What to give the IdP, the health panel and the test-connection buttons."""
    site = operated_site(request, site_pk)
    context = _context(
        request,
        site,
        f"Single sign-on set-up: {site}",
        health=site_health(site=site),
        **site_setup_values(request, site=site),
    )
    return TemplateResponse(request, "admin/troubleshoot/setup.html", context)


def test_start_view(
    request: HttpRequest, site_pk: int, audience: str, protocol: str
) -> HttpResponse:
    """Start a real sign-in round trip that ends on the result page."""
    site = operated_site(request, site_pk)
    if audience not in Audience.values or protocol not in (Protocol.SAML, Protocol.JWT):
        raise Http404("No such test.")
    response = connection_test_start(
        request, site=site, audience=Audience(audience), protocol=Protocol(protocol)
    )
    if response is None:
        raise Http404("This sign-in is not set up.")
    return response


def test_result_view(request: HttpRequest, nonce: str) -> HttpResponse:
    """The check-by-check result of a test round trip, for its operator only."""
    found = test_get(nonce)
    if found is None or found.get("user") != request.user.pk:
        raise Http404("No such test, or it has expired.")
    site = operated_site(request, int(found["site"]))
    result = found.get("result")
    report = report_from_result(found, result) if result else None
    context = _context(request, site, f"Test connection: {site}", report=report, pending=not result)
    return TemplateResponse(request, "admin/troubleshoot/test_result.html", context)
