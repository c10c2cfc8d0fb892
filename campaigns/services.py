"""Writes of visitor data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.models import Visitor
from tenants.models import Protocol, Site

VISITOR_FIELDS = ("name", "email", "phone")


@transaction.atomic(savepoint=False)
def visitor_upsert(
    *,
    site: Site,
    external_id: str,
    protocol: Protocol | str,
    fields: Mapping[str, Any],
    custom: Mapping[str, Any],
) -> Visitor:
    """Create or refresh ``site``'s visitor ``external_id`` from mapped values.

    Mapped values overwrite the stored ones; a field the identity provider
    did not send this time keeps its stored value.
    """
    visitor: Visitor
    visitor, _ = (
        Visitor.objects.for_site(site)
        .select_for_update()
        .get_or_create(site=site, external_id=external_id)
    )
    for name in VISITOR_FIELDS:
        if name in fields:
            setattr(visitor, name, fields[name])
    visitor.custom = {**visitor.custom, **custom}
    visitor.last_sign_in_at = timezone.now()
    visitor.last_protocol = str(protocol)
    visitor.save()
    return visitor
