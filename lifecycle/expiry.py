"""Expiry warnings: IdP signing certificates, SP certificates and metadata
``validUntil`` nearing their end, at 30, 7 and 1 days.

Each (thing, threshold) warns once: an ExpiryWarning row (shown in the
admin), an email to the site's operators and a ``certificate.expiring``
webhook event, written in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from lifecycle.metadata_checks import cert_info
from lifecycle.models import ExpiryWarning, MetadataRefresh
from sso.saml.metadata import idp_metadata_parse
from sso.saml.models import SamlSettings
from tenants.models import Site, SiteOperator
from webhooks.models import EventKind
from webhooks.services import event_emit

logger = logging.getLogger(__name__)


def expiring_items(*, site: Site) -> Iterator[tuple[str, datetime]]:
    """Yield (description, expiry) of every dated thing ``site`` relies on."""
    for saml in SamlSettings.objects.for_site(site).filter(enabled=True):
        audience = saml.get_audience_display().lower()
        try:
            certs = idp_metadata_parse(saml.idp_metadata_xml).certificates
        except ValidationError:
            certs = ()
        for cert in certs:
            info = cert_info(cert)
            yield f"IdP signing certificate {info.sha256[:16]} ({audience})", info.not_after
        if saml.sp_certificate:
            info = cert_info(saml.sp_certificate)
            yield f"SP certificate {info.sha256[:16]} ({audience})", info.not_after
    for state in MetadataRefresh.objects.for_site(site).exclude(valid_until=None):
        if state.valid_until is not None:
            yield f"IdP metadata validUntil ({state.saml_settings_id})", state.valid_until


def threshold_for(days_left: float) -> int | None:
    """Return the smallest warning threshold ``days_left`` has reached, if any."""
    reached = [
        t for t in getattr(settings, "SSO_EXPIRY_WARNING_DAYS", (30, 7, 1)) if days_left <= t
    ]
    return min(reached) if reached else None


def expiry_warnings_send(*, now: datetime | None = None) -> int:
    """Warn about everything nearing expiry that was not warned about yet; return how many."""
    now = now or timezone.now()
    sent = 0
    for site in Site.objects.filter(is_active=True):
        for subject, expires_at in expiring_items(site=site):
            threshold = threshold_for((expires_at - now).total_seconds() / 86400)
            if threshold is not None and _warn(site, subject, expires_at, threshold, now):
                sent += 1
    return sent


def _warn(site: Site, subject: str, expires_at: datetime, threshold: int, now: datetime) -> bool:
    days_left = max(0, (expires_at - now).days)
    try:
        with transaction.atomic():
            ExpiryWarning.objects.create(
                site=site, subject=subject, expires_at=expires_at, threshold_days=threshold
            )
            event_emit(
                site=site,
                kind=EventKind.CERTIFICATE_EXPIRING,
                payload={
                    "subject": subject,
                    "expires_at": expires_at.isoformat(),
                    "days_left": days_left,
                },
            )
    except IntegrityError:
        return False  # warned at this threshold already
    recipients = sorted(
        {
            email
            for email in SiteOperator.objects.for_site(site).values_list("user__email", flat=True)
            if email
        }
    )
    if recipients:
        try:
            send_mail(
                f"[SSO] {site.name}: {subject} expires in {days_left} days",
                f"{subject} of site {site.site_id} expires on {expires_at:%Y-%m-%d %H:%M} UTC.\n"
                "Renew it and update the site's sign-in settings before then.",
                None,
                recipients,
            )
        except OSError:
            logger.warning("expiry warning email failed site=%s", site.site_id)
    return True
