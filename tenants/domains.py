"""Email-domain claims: verification (DNS TXT or a superuser) and the
lookup of a site from a work email.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.exception
import dns.resolver
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tenants.models import Site, SiteDomain

if TYPE_CHECKING:
    from dns.resolver import Resolver

DNS_TIMEOUT = 5.0


def site_domain_txt_values(*, domain: str, resolver: Resolver | None = None) -> list[str]:
    """Return the TXT strings published at ``domain`` (empty on any DNS failure)."""
    resolver = resolver or dns.resolver.Resolver()
    try:
        answer = resolver.resolve(domain, "TXT", lifetime=DNS_TIMEOUT)
    except dns.exception.DNSException:
        return []
    return [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]


def site_domain_verify_dns(*, claim: SiteDomain, resolver: Resolver | None = None) -> bool:
    """Mark ``claim`` verified if ``claim.domain`` publishes its TXT record."""
    if claim.txt_record not in site_domain_txt_values(domain=claim.domain, resolver=resolver):
        return False
    claim.verified_at = timezone.now()
    claim.verified_by = SiteDomain.Method.DNS
    claim.save(update_fields=["verified_at", "verified_by"])
    return True


def site_domain_confirm(*, claim: SiteDomain, user: AbstractBaseUser | AnonymousUser) -> None:
    """Mark ``claim`` verified on a superuser's word; raise for anyone else."""
    if not getattr(user, "is_superuser", False):
        raise PermissionDenied("Only a superuser may confirm a domain without DNS.")
    claim.verified_at = timezone.now()
    claim.verified_by = SiteDomain.Method.SUPERUSER
    claim.save(update_fields=["verified_at", "verified_by"])


def site_get_by_email(*, email: str) -> Site | None:
    """Return the one active site with a verified claim on ``email``'s
    domain; None when no site, or more than one, has it.
    """
    _, at, domain = email.strip().rpartition("@")
    if not at or not domain:
        return None
    sites = list(
        Site.objects.filter(
            is_active=True,
            domains__domain__iexact=domain,
            domains__verified_at__isnull=False,
        ).distinct()[:2]
    )
    return sites[0] if len(sites) == 1 else None
