"""The assertion consumer service, on pysaml2's public API: from a posted
SAMLResponse to a verified, checked response, or SignInRefused.

Order: ``response_precheck`` (may only refuse: size, safe parsing, root,
version, algorithms, Destination, IssueInstant, InResponseTo bound to this
browser, site and audience), then pysaml2 parses, verifies the signature and
decrypts (``Saml2Client.parse_authn_request_response``), then
``authn_response_check`` checks the verified (decrypted) response and
assertion, and the answered request is forgotten (single use).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest
from django.utils import timezone
from djangosaml2.cache import IdentityCache
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.saml import SCM_BEARER, NameID

from sso.checktrace import check_passed
from sso.saml.assertion_checks import Expected, authn_response_check
from sso.saml.checks import RESPONSE_MAX_BYTES, refusal_for, response_precheck
from sso.saml.config import CLOCK_LEEWAY, sp_config_get, sp_urls
from sso.saml.models import SamlSettings
from sso.saml.state import saml_request_consume, saml_requests_outstanding
from sso_site.signin.refusals import RefusalReason, SignInRefused

DEFAULT_MAX_AUTHN_AGE = 300
_IN_RESPONSE_TO = re.compile(rb"<(?:\w+:)?Response\b[^>]*?\sInResponseTo=\"([^\"]{1,200})\"")


@dataclass(frozen=True)
class VerifiedResponse:
    """What the ACS needs of a response that passed every check."""

    session_info: dict[str, Any]
    assertion_info: dict[str, Any]
    name_id: NameID | None
    session_index: str


def max_authn_age() -> dt.timedelta:
    """Return ``SSO_SAML_MAX_AUTHN_AGE`` (seconds; the leeway comes on top)."""
    seconds = getattr(django_settings, "SSO_SAML_MAX_AUTHN_AGE", DEFAULT_MAX_AUTHN_AGE)
    return dt.timedelta(seconds=int(seconds))


def saml_response_verify(
    request: HttpRequest, *, settings: SamlSettings, encoded: str, dry_run: bool = False
) -> VerifiedResponse:
    """Return the checked contents of ``encoded`` for ``settings``' SP, or
    raise SignInRefused (its detail names the failed check).

    ``dry_run`` (the troubleshooting console) changes only what is read and
    written, never a check: the answered request is the response's own
    InResponseTo (the browser that started it is not this one), nothing is
    stored in the SAML session and no request is consumed.
    """
    site, audience = settings.site, settings.audience
    urls = sp_urls(request, site=site, audience=audience)
    if dry_run:
        outstanding = dry_run_outstanding(encoded)
    else:
        outstanding = saml_requests_outstanding(request, site=site, audience=audience)
    now = timezone.now()
    assertion_id = response_precheck(
        encoded,
        acs_url=urls["acs"],
        allow_sha1=settings.allow_sha1,
        allow_unsolicited=settings.allow_idp_initiated,
        outstanding=outstanding,
        now=now,
        max_age=max_authn_age(),
    )
    try:
        # A dry run keeps pysaml2's identity cache in memory.
        cache = None if dry_run else IdentityCache(request.saml_session)  # type: ignore[attr-defined]
        client = Saml2Client(sp_config_get(request, settings=settings), identity_cache=cache)
        authn = client.parse_authn_request_response(encoded, BINDING_HTTP_POST, outstanding)
        if authn is None or authn.assertion is None:
            raise SignInRefused(RefusalReason.SAML_MALFORMED, detail={"check": "pysaml2"})
        # pysaml2 verified the signature (and decrypted) before returning.
        check_passed("signature", signed_by=settings.idp_entity_id)
        authn_response_check(
            authn,
            expected=Expected(
                acs_url=urls["acs"],
                sp_entity_id=urls["metadata"],
                idp_entity_id=settings.idp_entity_id,
                max_age=max_authn_age(),
                skew=dt.timedelta(seconds=CLOCK_LEEWAY),
                now=timezone.now(),
            ),
        )
    except SignInRefused as exc:
        exc.detail.setdefault("assertion_id", assertion_id)
        raise
    except Exception as exc:  # any library failure is a refusal
        # The exception's text may hold the whole message: only its type is kept.
        raise SignInRefused(
            refusal_for(exc),
            detail={"check": "pysaml2", "error": type(exc).__name__, "assertion_id": assertion_id},
        ) from exc
    if authn.in_response_to and not dry_run:
        saml_request_consume(
            request, site=site, audience=audience, request_id=str(authn.in_response_to)
        )
    return _verified(authn)


def dry_run_outstanding(encoded: str) -> dict[str, str]:
    """Return the response's own InResponseTo as the one outstanding request."""
    try:
        match = _IN_RESPONSE_TO.search(base64.b64decode(encoded[:RESPONSE_MAX_BYTES]))
    except (ValueError, binascii.Error):
        return {}
    return {match.group(1).decode("ascii", "replace"): ""} if match else {}


def _verified(authn: Any) -> VerifiedResponse:
    assertion = authn.assertion
    ends = [
        c.subject_confirmation_data.not_on_or_after
        for c in assertion.subject.subject_confirmation
        if c.method == SCM_BEARER and c.subject_confirmation_data is not None
    ]
    statements = assertion.authn_statement or []
    return VerifiedResponse(
        session_info=authn.session_info(),
        assertion_info={
            "assertion_id": str(assertion.id or ""),
            "not_on_or_after": max(ends) if ends else None,
        },
        name_id=authn.name_id,
        session_index=str(statements[0].session_index or "") if statements else "",
    )
