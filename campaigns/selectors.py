"""Read-only queries of campaigns and visitors. Each takes the site it reads from."""

from __future__ import annotations

from campaigns.models import Campaign, Visitor
from tenants.models import Site


def campaign_get_active(*, site: Site, pk: int) -> Campaign | None:
    """Return ``site``'s active campaign ``pk``, or None (another site's too)."""
    campaign: Campaign | None = (
        Campaign.objects.for_site(site).filter(pk=pk, is_active=True).first()
    )
    if campaign is not None:
        campaign.site = site
    return campaign


def visitor_get_by_pk(*, site: Site, pk: int) -> Visitor | None:
    """Return the visitor ``pk`` if it belongs to ``site``."""
    return Visitor.objects.for_site(site).filter(pk=pk).first()
