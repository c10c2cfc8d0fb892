"""Reads of directory data. Each takes the site it reads from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scim.models import DirectoryLink, GroupRole, ScimGroup
from tenants.models import Agent, Site
from tenants.site_record import site_part

if TYPE_CHECKING:
    from django.db.models import QuerySet


def group_roles_for(*, site: Site, groups: Iterable[str]) -> list[GroupRole]:
    """Return ``site``'s mappings of the named ``groups`` (any case), best first."""
    names = {name.casefold() for name in groups}
    rules = GroupRole.objects.for_site(site).order_by("priority", "group_name")
    return [rule for rule in rules if rule.group_name.casefold() in names]


def site_has_group_roles(*, site: Site) -> bool:
    """Return whether ``site`` maps any group (from the site's record)."""
    return site_part(site.pk, "scim:group-roles", lambda: GroupRole.objects.for_site(site).exists())


def agent_scim_group_names(*, site: Site, agent: Agent) -> list[str]:
    """Return the names of ``site``'s SCIM groups ``agent`` belongs to."""
    return list(
        ScimGroup.objects.for_site(site)
        .filter(members=agent)
        .values_list("display_name", flat=True)
    )


def directory_link_of(*, site: Site, agent: Agent) -> DirectoryLink | None:
    return DirectoryLink.objects.for_site(site).filter(agent=agent).first()


def scim_agents(*, site: Site) -> QuerySet[Agent]:
    """Return ``site``'s agents with what a SCIM User shows, loaded."""
    return (
        Agent.objects.for_site(site)
        .select_related("directory")
        .prefetch_related("scim_groups")
        .order_by("pk")
    )


def scim_groups(*, site: Site) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.for_site(site).prefetch_related("members").order_by("pk")
