"""Writes of API data: tokens (create, revoke, use) and the change log."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from api.models import TOKEN_PREFIX, ApiChange, ApiToken, token_digest
from tenants.models import Site

TOKEN_BYTES = 32
# last_used_at is a hint for operators, not an audit trail: write it at most
# this often, so a busy integration does not turn every read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@transaction.atomic
def api_token_create(
    *,
    site: Site,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by: str = "",
) -> tuple[ApiToken, str]:
    """Create a token of ``site``; return it and its raw value (shown once)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        site=site,
        name=name,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=created_by[:150],
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(raw),
    )
    token.full_clean()
    token.save()
    return token, raw


def api_token_revoke(*, site: Site, token: ApiToken) -> ApiToken:
    """Revoke ``site``'s ``token`` at once; revoking twice keeps the first time."""
    if token.site_id != site.pk:
        raise ValueError("token of another site")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that ``token`` was used now (at most once a minute)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_change_record(
    *,
    site: Site,
    token: ApiToken,
    obj: Model,
    action: ApiChange.Action,
    fields: Iterable[str] = (),
) -> ApiChange:
    """Record one API write of ``obj`` by ``token`` (field names, never values)."""
    return ApiChange.objects.create(
        site=site,
        token=token,
        token_name=token.name,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        action=action,
        fields=sorted(set(fields)),
    )
