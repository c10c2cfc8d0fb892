"""What the customer's directory tells us: SCIM groups, the mapping of group
names to roles and departments, and what that mapping granted each agent.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models.functions import Lower

from tenants.models import Agent, Site, SiteOwned
from tenants.site_record import site_record_feeds


class ScimGroup(SiteOwned):
    """A group pushed by the site's directory over SCIM, with its agents."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    members = models.ManyToManyField(Agent, related_name="scim_groups", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SCIM group"
        ordering: ClassVar = ["site", "display_name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                Lower("display_name"),
                name="scim_group_name_unique_per_site",
                violation_error_message="This site already has a group with this name.",
            )
        ]

    def __str__(self) -> str:
        return self.display_name


class GroupRole(SiteOwned):
    """Membership of IdP group ``group_name`` grants a role and/or a department.

    The group name is matched, ignoring case, against the site's SCIM groups
    and the groups an assertion or a token carries (see ``GROUP_CLAIMS``).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="group_roles")
    group_name = models.CharField(max_length=255, help_text="The group's name in the IdP.")
    role = models.CharField(max_length=20, choices=Agent.Role.choices, blank=True)
    department = models.CharField(max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower wins when several groups grant a role or department."
    )

    class Meta:
        verbose_name = "group mapping"
        ordering: ClassVar = ["site", "priority", "group_name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                Lower("group_name"),
                name="group_role_unique_per_site",
                violation_error_message="This site already maps this group.",
            )
        ]

    def __str__(self) -> str:
        return self.group_name


class DirectoryLink(SiteOwned):
    """One agent as the directory knows it: its SCIM ``externalId`` and what
    the group mapping last granted, so that leaving a group takes back
    exactly that grant and nothing an operator set by hand.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="directory")
    user_name = models.CharField(
        max_length=255, blank=True, help_text="SCIM userName, when not the agent's email."
    )
    external_id = models.CharField(max_length=255, blank=True)
    granted_role = models.CharField(max_length=20, blank=True)
    granted_department = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "directory link"

    def __str__(self) -> str:
        return f"directory link of agent {self.agent_id}"


# Whether a site maps groups at all is read through the site's record
# (scim.selectors.site_has_group_roles), on every agent sign-in.
site_record_feeds(GroupRole)
