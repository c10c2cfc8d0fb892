"""Read-only views of a site's sign-ins for the console: captured refusals,
the health panel, certificates and the set-up values to give the IdP.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from sso.jwt.models import JwtSettings
from sso.saml.models import SamlSettings
from sso_site.signin.capture import capture_is_live
from tenants.models import Audience, LoginEvent, Protocol, Site

CAPTURES_SHOWN = 25
REDACTED_SIGNATURE = "cmVkYWN0ZWQ"  # base64url of "redacted"
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)
_DS_CERT = re.compile(r"<(?:\w+:)?X509Certificate>([^<]+)</(?:\w+:)?X509Certificate>")


@dataclass(frozen=True)
class Certificate:
    where: str
    subject: str
    not_after: dt.datetime
    fingerprint: str

    @property
    def days_left(self) -> int:
        return (self.not_after - timezone.now()).days


def site_refusals_captured(*, site: Site) -> list[LoginEvent]:
    """Return ``site``'s latest refusals, each with its capture if still live."""
    events = list(
        LoginEvent.objects.filter(site=site, outcome=LoginEvent.Outcome.REFUSED).order_by(
            "-created_at"
        )[:CAPTURES_SHOWN]
    )
    for event in events:
        event.capture_live = capture_is_live(event.detail)
    return events


def capture_get(*, site: Site, pk: int) -> dict[str, Any] | None:
    """Return the live capture of ``site``'s refusal ``pk``, or None."""
    event = LoginEvent.objects.filter(site=site, pk=pk, outcome=LoginEvent.Outcome.REFUSED).first()
    if event is None or not capture_is_live(event.detail):
        return None
    capture: dict[str, Any] = dict(event.detail["capture"])
    if capture.get("kind") == "jwt":
        capture["text"] = _token_from_capture(str(capture.get("text") or ""))
    return {**capture, "audience": event.audience, "check": event.detail.get("check", "")}


def _token_from_capture(text: str) -> str:
    """Rebuild a (redacted, unverifiable) JWT from a capture's decoded parts."""
    try:
        parts = json.loads(text)
        header, claims = parts["header"], parts["claims"]
    except (ValueError, KeyError, TypeError):
        return text

    def encode(value: Any) -> str:
        raw = json.dumps(value, separators=(",", ":"), default=str).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{encode(header)}.{encode(claims)}.{REDACTED_SIGNATURE}"


def site_health(*, site: Site) -> dict[str, Any]:
    """Return the last success and refusal per protocol and audience, the
    refusals by reason over 24 hours, and the certificates with their expiry.
    """
    events = LoginEvent.objects.filter(site=site)
    last: list[dict[str, Any]] = []
    for protocol in (Protocol.SAML, Protocol.JWT):
        for audience in (Audience.AGENT, Audience.VISITOR):
            mine = events.filter(protocol=protocol, audience=audience)
            success = mine.filter(outcome=LoginEvent.Outcome.SUCCESS).order_by("-created_at")
            refused = mine.filter(outcome=LoginEvent.Outcome.REFUSED).order_by("-created_at")
            last_refusal = refused.first()
            last.append(
                {
                    "protocol": protocol,
                    "audience": audience,
                    "success": success.values_list("created_at", flat=True).first(),
                    "refusal": last_refusal.created_at if last_refusal else None,
                    "reason": last_refusal.reason if last_refusal else "",
                }
            )
    since = timezone.now() - dt.timedelta(hours=24)
    by_reason = (
        events.filter(outcome=LoginEvent.Outcome.REFUSED, created_at__gte=since)
        .values("reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason")
    )
    return {
        "last": last,
        "by_reason": list(by_reason),
        "certificates": site_certificates(site=site),
    }


def site_certificates(*, site: Site) -> list[Certificate]:
    """Return the SAML certificates of ``site`` (IdP and SP), public parts only."""
    found: list[Certificate] = []
    for settings in SamlSettings.objects.filter(site=site):
        sources = [
            ("IdP signing", settings.signing_cert),
            ("IdP second signing", settings.signing_cert_next),
            ("IdP metadata", settings.idp_metadata_xml or settings.metadata_xml),
            ("SP (ours)", settings.sp_certificate),
        ]
        seen: set[str] = set()
        for where, text in sources:
            for der in _certificates_in(text or ""):
                cert = _certificate(f"{settings.audience} {where}", der)
                if cert is not None and cert.fingerprint not in seen:
                    seen.add(cert.fingerprint)
                    found.append(cert)
    return found


def _certificates_in(text: str) -> list[bytes]:
    blobs = _PEM.findall(text) or _DS_CERT.findall(text)
    ders = []
    for blob in blobs:
        try:
            ders.append(base64.b64decode("".join(blob.split())))
        except (ValueError, binascii.Error):
            continue
    return ders


def _certificate(where: str, der: bytes) -> Certificate | None:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return Certificate(
        where=where,
        subject=cert.subject.rfc4514_string()[:200],
        not_after=cert.not_valid_after_utc,
        fingerprint=":".join(digest[i : i + 2] for i in range(0, 32, 2)) + "…",
    )


def site_setup_values(request: HttpRequest, *, site: Site) -> dict[str, Any]:
    """Return what to give the IdP, per audience: SAML URLs and the JWT callback."""
    kwargs = {"site_id": site.site_id}
    absolute = request.build_absolute_uri
    audiences = []
    for audience in (Audience.AGENT, Audience.VISITOR):
        saml = {
            "entity_id": absolute(reverse(f"sso:{audience}-saml-metadata", kwargs=kwargs)),
            "acs": absolute(reverse(f"sso:{audience}-saml-acs", kwargs=kwargs)),
            "sls": absolute(reverse(f"sso:{audience}-saml-sls", kwargs=kwargs)),
        }
        jwt = JwtSettings.objects.filter(site=site, audience=audience).first()
        audiences.append(
            {
                "audience": audience,
                "saml": saml,
                "saml_configured": SamlSettings.objects.filter(
                    site=site, audience=audience
                ).exists(),
                "jwt_callback": absolute(reverse(f"sso:{audience}-jwt", kwargs=kwargs)),
                "jwt": jwt,
                "claims": _expected_claims(jwt, audience),
            }
        )
    return {"audiences": audiences}


def _expected_claims(jwt: JwtSettings | None, audience: Audience) -> list[tuple[str, str]]:
    who = (
        ("email", "the agent's email address")
        if audience == Audience.AGENT
        else ("external_id", "your stable ID of the visitor (or sub)")
    )
    claims = [
        who,
        ("exp", "expiry, seconds since 1970 (short: minutes)"),
        ("iat", "issue time"),
        ("jti", "a unique ID: each token is accepted once"),
    ]
    if jwt is not None and jwt.expected_issuer:
        claims.append(("iss", jwt.expected_issuer))
    if jwt is not None and jwt.expected_audience:
        claims.append(("aud", jwt.expected_audience))
    if jwt is not None and jwt.mfa_required:
        claims.append(("amr", "one of: " + ", ".join(sorted(jwt.accepted_amr))))
    return claims
