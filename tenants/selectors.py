"""Read-only queries of tenant data. Each takes the site it reads from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import TypeIs

from tenants.identity_keys import IdentityError, domain_key
from tenants.models import Agent, Site, SiteDomain, UsedToken
from tenants.site_record import site_part, site_pk_for_public_id, site_pk_remember

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet


_SITE_FIELDS = tuple(f.attname for f in Site._meta.concrete_fields)


def _site_values(pk: int) -> tuple[Any, ...] | None:
    row = Site.objects.filter(pk=pk).values_list(*_SITE_FIELDS).first()
    return tuple(row) if row is not None else None


def site_get(*, pk: int) -> Site | None:
    """Return the site of primary key ``pk``, active or not, or None.

    From this process's record of the site while its version is current
    (see ``tenants.site_record``): a new instance each call, so a caller
    may change it as it likes.
    """
    values = site_part(pk, "site", lambda: _site_values(pk))
    return Site.from_db("default", _SITE_FIELDS, values) if values is not None else None


def site_get_by_public_id(*, site_id: int) -> Site | None:
    """Return the site with public ``site_id``, active or not, or None."""
    pk = site_pk_for_public_id(site_id)
    if pk is not None:
        site = site_get(pk=pk)
        if site is not None and site.site_id == site_id:
            return site
    # First sight of this ID (or a stale entry): its primary key, then the
    # row through the record, whose version is read before the row is.
    pk = Site.objects.filter(site_id=site_id).values_list("pk", flat=True).first()
    if pk is None:
        return None
    site_pk_remember(site_id, pk)
    site = site_get(pk=pk)
    return site if site is not None and site.site_id == site_id else None


def site_is_usable(site: Site | None) -> TypeIs[Site]:
    """Return whether ``site`` exists and accepts sign-ins and chats.

    The one place that decides it: every sign-in path, the chat window and
    the session check ask here, so a new rule (a suspended tenant, say)
    is written once.
    """
    return site is not None and site.is_active


def site_get_usable(*, pk: int) -> Site | None:
    """Return the site of primary key ``pk`` if it is usable, else None."""
    site = site_get(pk=pk)
    return site if site_is_usable(site) else None


def agent_get_by_key(*, site: Site, key: str) -> Agent | None:
    """Return the agent of ``site`` whose identity key is ``key`` (see ``email_key``).

    One row at most (``agent_email_key_unique_per_site``), found through
    that constraint's index; no ordering, which (``Agent.Meta.ordering``
    starts with the site) would join the site table for nothing.
    """
    found = list(Agent.objects.for_site(site).filter(email_key=key).order_by()[:1])
    return found[0] if found else None


def site_jit_domains(*, site: Site) -> frozenset[str]:
    """Return the email domains (A-labels) ``site`` may create agents for.

    Its own allow-list when set, else its verified domain claims.
    """
    listed = [line.strip().removeprefix("@") for line in site.jit_domains.splitlines()]
    if not any(listed):
        listed = list(
            SiteDomain.objects.for_site(site)
            .filter(verified_at__isnull=False)
            .values_list("domain", flat=True)
        )
    keys = set()
    for domain in filter(None, listed):
        try:
            keys.add(domain_key(domain))
        except IdentityError:
            continue
    return frozenset(keys)


def agent_get_by_pk(*, site: Site, pk: int) -> Agent | None:
    """Return ``site``'s agent ``pk``, active or not, or None."""
    return Agent.objects.for_site(site).filter(pk=pk).first()


def agent_get_signed_in(*, site_pk: int, pk: int) -> Agent | None:
    """Return the active agent ``pk`` of the usable site ``site_pk``, site loaded.

    One query, run on every request of a signed-in agent.
    """
    agent = (
        Agent.objects.select_related("site").filter(pk=pk, site_id=site_pk, is_active=True).first()
    )
    return agent if agent is not None and site_is_usable(agent.site) else None


def sites_operated_by(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Site]:
    """Return the sites ``user`` may administer: all for superusers."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if getattr(user, "is_superuser", False):
        return Site.objects.all()
    return Site.objects.filter(operators__user_id=user.pk)


def token_is_unused(*, site: Site, kind: str, value: str, expires_at: object = None) -> bool:
    """Return whether ``value`` of ``kind`` is still unused for ``site``: the
    read-only twin of ``token_consume`` (the troubleshooting dry run).
    """
    return not UsedToken.objects.filter(site=site, kind=kind, value=value).exists()
