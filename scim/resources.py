"""Agents and groups as SCIM resources (scim2-models), and back.

A SCIM User is an agent: ``userName`` is the agent's email, ``active`` its
active flag, ``displayName`` (or ``name.formatted``) its name. Other User
attributes are accepted and not stored.
"""

from __future__ import annotations

from typing import Any

from scim2_models import (
    Context,
    Email,
    Group,
    GroupMember,
    GroupMembership,
    Meta,
    Name,
    Reference,
    ResponseParameters,
    User,
)

from scim.models import ScimGroup
from tenants.models import Agent


def agent_as_user(agent: Agent, *, base_url: str) -> User[Any]:
    link = getattr(agent, "directory", None)
    return User(
        id=str(agent.pk),
        external_id=(link.external_id if link is not None else "") or None,
        user_name=(link.user_name if link is not None else "") or agent.email,
        display_name=agent.name or None,
        name=Name(formatted=agent.name) if agent.name else None,
        emails=[Email(value=agent.email, type=Email.Type.work, primary=True)],
        active=agent.is_active,
        groups=[
            GroupMembership(
                value=str(group.pk),
                display=group.display_name,
                ref=Reference(f"{base_url}/Groups/{group.pk}"),
                type="direct",
            )
            for group in agent.scim_groups.all()
        ]
        or None,
        meta=Meta(
            resource_type="User",
            created=agent.created_at,
            last_modified=agent.last_synced_at or agent.created_at,
            location=f"{base_url}/Users/{agent.pk}",
        ),
    )


def group_as_group(group: ScimGroup, *, base_url: str) -> Group:
    return Group(
        id=str(group.pk),
        external_id=group.external_id or None,
        display_name=group.display_name,
        members=[
            GroupMember(
                value=str(agent.pk),
                display=agent.email,
                type="User",
                ref=Reference(f"{base_url}/Users/{agent.pk}"),
            )
            for agent in group.members.all()
        ]
        or None,
        meta=Meta(
            resource_type="Group",
            created=group.created_at,
            last_modified=group.updated_at,
            location=f"{base_url}/Groups/{group.pk}",
        ),
    )


def user_fields(user: User[Any]) -> dict[str, Any]:
    """Return the fields a SCIM User sets.

    The agent's email is ``userName`` when that is an address (Okta's
    default), else the primary (or work, or first) email; a ``userName``
    that is not the email (an Entra ID UPN, say) is kept beside it.
    """
    emails = user.emails or []
    work = next((e for e in emails if e.primary), None) or next(
        (e for e in emails if e.type == "work"), None
    )
    first = next((e for e in emails if e.value), None)
    user_name = user.user_name or ""
    email = user_name
    if "@" not in email:
        chosen = work or first
        email = chosen.value if chosen is not None and chosen.value else user_name
    name = user.display_name or ""
    if not name and user.name is not None:
        name = user.name.formatted or " ".join(
            part for part in (user.name.given_name, user.name.family_name) if part
        )
    return {
        "user_name": "" if user_name.casefold() == email.casefold() else user_name[:255],
        "email": email,
        "name": name[:200],
        "active": True if user.active is None else bool(user.active),
        "external_id": (user.external_id or "")[:255],
    }


def dump(
    resource: Any,
    *,
    ctx: Context = Context.RESOURCE_QUERY_RESPONSE,
    params: ResponseParameters[Any] | None = None,
) -> dict[str, Any]:
    """Return ``resource`` as SCIM JSON, with only the attributes ``params`` asks for."""
    payload: dict[str, Any] = resource.model_dump(scim_ctx=ctx, response_parameters=params)
    return payload
