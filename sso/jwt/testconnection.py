"""The JWT side of "test connection" (see ``sso.testconnection``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from sso.jwt.flows import jwt_identity
from sso.testconnection import TEST_PARAM, test_finish, test_get
from tenants.models import Audience, Protocol, Site


def jwt_test_nonce(request: HttpRequest, *, site: Site | None) -> str | None:
    nonce = request.GET.get(TEST_PARAM, "")
    found = test_get(nonce)
    if site is None or found is None or found["site"] != site.pk:
        return None
    return nonce if found["protocol"] == Protocol.JWT else None


def jwt_test_finish(
    request: HttpRequest, *, site: Site, token: str | None, nonce: str
) -> HttpResponse:
    found = test_get(nonce) or {}
    audience = Audience(found.get("audience", Audience.AGENT))
    return test_finish(
        nonce, lambda: jwt_identity(site=site, audience=audience, token=token, dry_run=True)
    )
