"""Writes of directory data: SCIM users and groups, and the group mapping.

Every SCIM change re-applies the group mapping to the agents it touches;
``sso_site.signin`` re-applies it on every sign-in (``agent_groups_sign_in``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from scim.models import DirectoryLink, ScimGroup
from scim.selectors import agent_scim_group_names, group_roles_for, site_has_group_roles
from tenants.models import Agent, Site
from tenants.services import agent_create, agent_deactivate

# Where an assertion or a token carries group names: the common names, then
# the claim URIs of Entra ID (Azure AD) and AD FS.
GROUP_CLAIMS = (
    "groups",
    "memberOf",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.xmlsoap.org/claims/Group",
)


def claim_groups(claims: Mapping[str, Any]) -> set[str]:
    """Return the group names found in ``claims`` (strings only; others ignored)."""
    found: set[str] = set()
    for name in GROUP_CLAIMS:
        value = claims.get(name)
        values = value if isinstance(value, list | tuple) else [value]
        found.update(v for v in values if isinstance(v, str) and v)
    return found


def agent_groups_apply(*, site: Site, agent: Agent, groups: Iterable[str]) -> list[str]:
    """Set ``agent``'s role and department from ``groups``; return the changed fields.

    The agent is not saved (the caller saves the returned fields). What a
    group granted is remembered, so that when no group grants it any more,
    the role goes back to "agent" and the department to none, unless an
    operator changed it since (then it is theirs, and kept).
    """
    if agent.site_id != site.pk:
        raise ValueError("agent of another site")
    rules = group_roles_for(site=site, groups=groups)
    role = next((rule.role for rule in rules if rule.role), "")
    department = next((rule.department for rule in rules if rule.department), "")
    link, _ = DirectoryLink.objects.get_or_create(site=site, agent=agent)
    changed: list[str] = []
    for field, granted, previous, default in (
        ("role", role, link.granted_role, Agent.Role.AGENT),
        ("department", department, link.granted_department, ""),
    ):
        value = getattr(agent, field)
        if granted and value != granted:
            setattr(agent, field, granted)
            changed.append(field)
        elif not granted and previous and value == previous and value != default:
            setattr(agent, field, default)
            changed.append(field)
    link.granted_role, link.granted_department = role, department
    link.save(update_fields=["granted_role", "granted_department"])
    agent.last_synced_at = timezone.now()
    return [*changed, "last_synced_at"]


def agent_groups_sign_in(*, site: Site, agent: Agent, claims: Mapping[str, Any]) -> list[str]:
    """Re-apply the group mapping at sign-in; return the agent's changed fields.

    The groups are those the sign-in carries plus the agent's SCIM groups.
    A site without group mappings is left alone (no query beyond one check).
    """
    if not site_has_group_roles(site=site):
        return []
    groups = claim_groups(claims) | set(agent_scim_group_names(site=site, agent=agent))
    return agent_groups_apply(site=site, agent=agent, groups=groups)


def _agent_resync(*, site: Site, agent: Agent) -> None:
    fields = agent_groups_apply(
        site=site, agent=agent, groups=agent_scim_group_names(site=site, agent=agent)
    )
    agent.save(update_fields=fields)


@transaction.atomic
def scim_user_create(
    *, site: Site, user_name: str, email: str, name: str, active: bool, external_id: str
) -> Agent:
    """Create ``site``'s agent from a SCIM User (raises ValidationError on bad data)."""
    agent = agent_create(site=site, email=email, name=name, source=Agent.Source.SCIM)
    DirectoryLink.objects.create(
        site=site, agent=agent, user_name=user_name, external_id=external_id
    )
    if not active:
        agent_deactivate(site=site, agent=agent)
    _agent_resync(site=site, agent=agent)
    return agent


@transaction.atomic
def scim_user_update(
    *,
    site: Site,
    agent: Agent,
    user_name: str,
    email: str,
    name: str,
    active: bool,
    external_id: str,
) -> list[str]:
    """Replace ``agent``'s SCIM fields; return the names of those that changed.

    ``active=False`` goes through ``agent_deactivate``, which ends the
    agent's open sessions, as an operator's deactivation does.
    """
    if agent.site_id != site.pk:
        raise ValueError("agent of another site")
    changed = [
        field
        for field, value in (("email", email.strip()), ("name", name))
        if getattr(agent, field) != value
    ]
    for field in changed:
        setattr(agent, field, email.strip() if field == "email" else name)
    if changed:
        agent.full_clean()
    if active and not agent.is_active:
        agent.is_active = True
        changed.append("is_active")
    if changed:
        agent.save(update_fields=changed)
    if not active and agent.is_active:
        agent_deactivate(site=site, agent=agent)
        changed.append("is_active")
    link, _ = DirectoryLink.objects.get_or_create(site=site, agent=agent)
    linked = [
        field
        for field, value in (("user_name", user_name), ("external_id", external_id))
        if getattr(link, field) != value
    ]
    if linked:
        link.user_name, link.external_id = user_name, external_id
        link.save(update_fields=linked)
        changed += linked
    _agent_resync(site=site, agent=agent)
    return changed


def scim_user_delete(*, site: Site, agent: Agent) -> None:
    """Delete ``site``'s agent; an open session of theirs ends on its next request."""
    if agent.site_id != site.pk:
        raise ValueError("agent of another site")
    agent.delete()


@transaction.atomic
def scim_group_save(
    *,
    site: Site,
    group: ScimGroup | None,
    display_name: str,
    external_id: str,
    members: Iterable[Agent],
) -> ScimGroup:
    """Create or replace a SCIM group; re-apply the mapping to every agent
    who joined or left it.
    """
    if group is None:
        group = ScimGroup(site=site)
    elif group.site_id != site.pk:
        raise ValueError("group of another site")
    group.display_name, group.external_id = display_name, external_id
    group.full_clean()
    group.save()
    before = set(group.members.all())
    after = {agent for agent in members if agent.site_id == site.pk}
    group.members.set(after)
    for agent in before ^ after:
        _agent_resync(site=site, agent=agent)
    return group


@transaction.atomic
def scim_group_delete(*, site: Site, group: ScimGroup) -> None:
    """Delete a SCIM group; its members lose what it granted."""
    if group.site_id != site.pk:
        raise ValueError("group of another site")
    members = list(group.members.all())
    group.delete()
    for agent in members:
        _agent_resync(site=site, agent=agent)
