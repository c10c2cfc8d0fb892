"""Lifecycle writes: metadata and JWKS refresh, key rotation with overlap,
retention, and the record of each periodic job's last run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lifecycle.metadata_checks import (
    cert_info,
    metadata_signature_check,
    metadata_valid_until,
    metadata_without_expired_certs,
)
from lifecycle.models import JobRun, JwksRefresh, MetadataRefresh, SiteRetention
from sso.jwt.keys import JwksUnavailableError, jwks_refresh
from sso.jwt.models import Algorithm, JwtSettings
from sso.saml.metadata import idp_metadata_fetch, idp_metadata_parse
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_metadata_derive
from sso_site.secret_store import secret_encrypt, secret_fingerprint, secret_generate
from tenants.models import LoginEvent, Site
from tenants.services import token_purge_expired
from webhooks.services import deliveries_purge

logger = logging.getLogger(__name__)


def job_run(name: str, func: Callable[[], Any]) -> Any:
    """Run the periodic job ``func``, recording its start, end and outcome."""
    JobRun.objects.update_or_create(name=name, defaults={"last_started_at": timezone.now()})
    try:
        result = func()
    except Exception as exc:
        JobRun.objects.filter(name=name).update(
            last_finished_at=timezone.now(), last_error=type(exc).__name__[:300]
        )
        raise
    JobRun.objects.filter(name=name).update(
        last_finished_at=timezone.now(), last_result=str(result)[:200], last_error=""
    )
    return result


def metadata_refresh(*, saml_settings: SamlSettings) -> MetadataRefresh:
    """Fetch, check and apply the metadata URL of ``saml_settings``.

    Applying the new document makes the signing certificates it publishes
    the accepted ones: a certificate added by the IdP verifies from now on,
    and one it keeps publishing keeps verifying; one it dropped is dropped.
    A fetch or check that fails changes nothing but the recorded error.
    """
    state, _ = MetadataRefresh.objects.get_or_create(
        saml_settings=saml_settings, defaults={"site": saml_settings.site}
    )
    now = timezone.now()
    state.last_attempt_at = now
    fresh = SamlSettings.objects.select_related("site").get(pk=saml_settings.pk)
    try:
        xml = idp_metadata_fetch(saml_settings.metadata_url)  # through the outbound guard
        if state.metadata_signing_cert.strip():
            metadata_signature_check(xml, certificate=state.metadata_signing_cert)
        valid_until = metadata_valid_until(xml, now=now)
        # The one derivation path of SAML settings, on what was just
        # fetched (as pasted XML: no second fetch); only the metadata
        # fields are saved below, so the row stays a URL source.
        fresh.source, fresh.metadata_xml = SamlSettings.Source.XML, xml
        saml_settings_metadata_derive(fresh)
        fresh.idp_metadata_xml = metadata_without_expired_certs(fresh.idp_metadata_xml, now=now)
        if fresh.idp_entity_id != saml_settings.idp_entity_id:
            raise ValidationError("The metadata names another IdP entity ID; apply it by hand.")
        published = idp_metadata_parse(fresh.idp_metadata_xml).certificates
        certificates = [cert_info(c).as_json() for c in published]
    except ValidationError as exc:
        state.last_error = " ".join(exc.messages)[:300]
        state.save()
        logger.warning("metadata refresh failed site=%s", saml_settings.site.site_id)
        return state
    with transaction.atomic():
        if fresh.idp_metadata_xml != saml_settings.idp_metadata_xml:
            saml_settings.metadata_xml = fresh.metadata_xml
            saml_settings.idp_metadata_xml = fresh.idp_metadata_xml
            saml_settings.save(update_fields=["metadata_xml", "idp_metadata_xml", "updated_at"])
        state.certificates, state.valid_until = certificates, valid_until
        state.last_refreshed_at, state.last_error = now, ""
        state.save()
    return state


def metadata_refresh_all() -> int:
    """Refresh every enabled SAML settings row with a metadata URL; return how many."""
    rows = SamlSettings.objects.filter(enabled=True, source=SamlSettings.Source.URL)
    count = 0
    for saml_settings in rows.select_related("site"):
        metadata_refresh(saml_settings=saml_settings)
        count += 1
    return count


def jwks_refresh_now(*, jwt_settings: JwtSettings) -> JwksRefresh:
    """Fetch the JWKS of ``jwt_settings`` now; a failure keeps the cached keys."""
    state, _ = JwksRefresh.objects.get_or_create(
        jwt_settings=jwt_settings, defaults={"site": jwt_settings.site}
    )
    state.last_attempt_at = timezone.now()
    try:
        kids = jwks_refresh(jwt_settings.jwks_url, jwt_settings.algorithm)
    except JwksUnavailableError as exc:
        state.last_error = str(exc)[:300]
    else:
        state.kids, state.last_error = list(kids), ""
        state.last_refreshed_at = state.last_attempt_at
    state.save()
    return state


def jwks_refresh_all() -> int:
    """Refresh every enabled JWT settings row with a JWKS URL; return how many."""
    rows = JwtSettings.objects.filter(enabled=True).exclude(jwks_url="").select_related("site")
    for jwt_settings in rows:
        jwks_refresh_now(jwt_settings=jwt_settings)
    return len(rows)


def key_rotation_start(*, site: Site, config: JwtSettings, overlap: timedelta) -> str:
    """Start a rotation of ``config``: add a "next" key, retire the current one after ``overlap``.

    HS256: a new secret is generated and returned (shown once); both verify
    until the window ends. RS256/ES256: the "next" public key the operator
    pasted becomes the only one at the end. Return "" when there is no
    secret to show.
    """
    if config.site_id != site.pk:
        raise ValueError("an object of another site")
    raw = ""
    if config.algorithm == Algorithm.HS256:
        raw = secret_generate()
        config.next_secret_encrypted = secret_encrypt(raw)
        config.next_secret_fingerprint = secret_fingerprint(raw)
    elif not config.next_public_key.strip():
        raise ValidationError("Paste the next public key first, then start the rotation.")
    config.rotation_ends_at = timezone.now() + overlap
    config.save()
    return raw


def key_rotation_finish(*, site: Site, config: JwtSettings) -> None:
    """Retire the current key of ``config``: the next one becomes current."""
    if config.site_id != site.pk:
        raise ValueError("an object of another site")
    if config.algorithm == Algorithm.HS256 and config.next_secret_encrypted:
        config.secret_encrypted = config.next_secret_encrypted
        config.secret_fingerprint = config.next_secret_fingerprint
        config.secret_created_at = timezone.now()
        config.next_secret_encrypted = config.next_secret_fingerprint = ""
    elif config.next_public_key.strip():
        config.public_key, config.public_key_id = config.next_public_key, config.next_public_key_id
        config.next_public_key = config.next_public_key_id = ""
    config.rotation_ends_at = None
    config.save()


def key_rotations_finish(*, now: datetime | None = None) -> int:
    """Finish every rotation whose window is over; return how many."""
    due = JwtSettings.objects.filter(rotation_ends_at__lte=now or timezone.now())
    count = 0
    for config in due.select_related("site"):
        key_rotation_finish(site=config.site, config=config)
        count += 1
    return count


def captures_purge_expired(*, now: datetime) -> int:
    """Remove the redacted request copy from refusals whose capture expired
    (``SSO_CAPTURE_TTL``); the refusal's row and reason stay. Return how many.
    """
    deadline = int(now.timestamp())
    expired = LoginEvent.objects.filter(detail__capture__expires__lt=deadline).only("pk", "detail")
    purged = 0
    while batch := list(expired[:500]):
        for event in batch:
            event.detail.pop("capture", None)
        LoginEvent.objects.bulk_update(batch, ["detail"])
        purged += len(batch)
    return purged


def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired replay rows and sessions, expired troubleshooting
    captures, and each site's audit events and webhook deliveries older than
    its retention period.
    """
    now = now or timezone.now()
    counts = {"replay": token_purge_expired(now=now)}
    counts["captures"] = captures_purge_expired(now=now)
    counts["sessions"], _ = Session.objects.filter(expire_date__lt=now).delete()
    default_days = int(getattr(django_settings, "SSO_RETENTION_DAYS", 90))
    days_of = dict(SiteRetention.objects.values_list("site_id", "days"))
    counts["audit"] = counts["deliveries"] = 0
    for site in Site.objects.all():
        before = now - timedelta(days=days_of.get(site.pk, default_days))
        deleted, _ = LoginEvent.objects.for_site(site).filter(created_at__lt=before).delete()
        counts["audit"] += deleted
        counts["deliveries"] += deliveries_purge(site=site, before=before)
    return counts
