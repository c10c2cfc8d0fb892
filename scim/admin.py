"""The group mapping and the SCIM groups in the admin, per site."""

from __future__ import annotations

from typing import ClassVar

from django.contrib import admin

from scim.models import GroupRole, ScimGroup
from tenants.admin import SiteScopedAdmin


@admin.register(GroupRole)
class GroupRoleAdmin(SiteScopedAdmin):
    list_display: ClassVar = ["group_name", "site", "role", "department", "priority"]
    list_filter: ClassVar = [("site", admin.RelatedOnlyFieldListFilter), "role"]
    search_fields: ClassVar = ["group_name", "department"]
    autocomplete_fields: ClassVar = ["site"]


@admin.register(ScimGroup)
class ScimGroupAdmin(SiteScopedAdmin):
    """Read-only: the customer's directory owns these groups."""

    list_display: ClassVar = ["display_name", "site", "updated_at"]
    list_filter: ClassVar = [("site", admin.RelatedOnlyFieldListFilter)]
    search_fields: ClassVar = ["display_name"]
    readonly_fields: ClassVar = ["site", "display_name", "external_id", "members", "updated_at"]

    def has_add_permission(self, request: object) -> bool:  # type: ignore[override]
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:  # type: ignore[override]
        return False
