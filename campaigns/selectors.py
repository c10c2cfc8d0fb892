"""Read-only queries of visitor data. Each takes the site it reads from."""

from __future__ import annotations

from campaigns.models import Visitor
from tenants.models import Site


def visitor_get_by_pk(*, site: Site, pk: int) -> Visitor | None:
    """Return the visitor ``pk`` if it belongs to ``site``."""
    return Visitor.objects.for_site(site).filter(pk=pk).first()


def visitor_get_by_external_id(*, site: Site, external_id: str) -> Visitor | None:
    """Return ``site``'s visitor with ``external_id``, or None."""
    return Visitor.objects.for_site(site).filter(external_id=external_id).first()
