"""The SAML side of "test connection" (see ``sso.testconnection``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from sso.saml.acs import dry_run_outstanding, saml_response_verify
from sso.saml.identity import identity_from_session_info
from sso.saml.models import SamlSettings
from sso.saml.state import saml_requests_outstanding
from sso.testconnection import TEST_PREFIX, test_finish, test_get
from tenants.models import Protocol, Site


def saml_test_nonce(request: HttpRequest, *, site: Site, audience: str, encoded: str) -> str | None:
    """Return the nonce if ``encoded`` answers a test request of this browser."""
    in_response_to = next(iter(dry_run_outstanding(encoded)), "")
    marker = saml_requests_outstanding(request, site=site, audience=audience).get(
        in_response_to, ""
    )
    nonce = marker.removeprefix(TEST_PREFIX) if marker.startswith(TEST_PREFIX) else ""
    found = test_get(nonce)
    if found is None or found["site"] != site.pk or found["protocol"] != Protocol.SAML:
        return None
    return nonce


def saml_test_finish(
    request: HttpRequest, *, settings: SamlSettings, encoded: str, nonce: str
) -> HttpResponse:
    """Check the answer to a test request and show the result page."""

    def verify() -> Any:
        verified = saml_response_verify(request, settings=settings, encoded=encoded)
        return identity_from_session_info(
            site=settings.site,
            settings=settings,
            session_info=verified.session_info,
            assertion_info=verified.assertion_info,
            dry_run=True,
        )

    return test_finish(nonce, verify)
