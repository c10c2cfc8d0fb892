"""Which endpoints of a site want events, without a query per sign-in.

Every sign-in and refusal asks; almost always the answer has not changed.
The answer is a part of the site's record in each process
(``tenants.site_record``), current while the site's version is; a change
to an endpoint gives the site a new version. Without the shared cache, the
database answers.
"""

from __future__ import annotations

from tenants.models import Site
from tenants.site_record import site_part, site_version_bump
from webhooks.models import WebhookEndpoint


def _load(site: Site) -> tuple[tuple[int, tuple[str, ...]], ...]:
    rows = WebhookEndpoint.objects.for_site(site).filter(is_active=True).order_by("pk")
    return tuple((pk, tuple(events or ())) for pk, events in rows.values_list("pk", "events"))


def endpoints_for(*, site: Site, kind: str) -> list[int]:
    """Return the pks of ``site``'s active endpoints subscribed to ``kind``."""
    endpoints = site_part(site.pk, "webhooks:endpoints", lambda: _load(site))
    return [pk for pk, events in endpoints if not events or kind in events]


def endpoints_forget(*, site_pk: int) -> None:
    """Give ``site``'s record a new version, now and once the transaction commits."""
    site_version_bump(site_pk)
