"""The group mapping and the SCIM groups in the admin, per site."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from scim.models import GroupRole, ScimGroup
from tenants.admin import SiteScopedAdmin


@admin.register(GroupRole)
class GroupRoleAdmin(SiteScopedAdmin):
    list_display = ["group_name", "site", "role", "department", "priority"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "role"]
    search_fields = ["group_name", "department"]
    autocomplete_fields = ["site"]


@admin.register(ScimGroup)
class ScimGroupAdmin(SiteScopedAdmin):
    """Read-only: the customer's directory owns these groups."""

    list_display = ["display_name", "site", "updated_at"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["display_name"]
    readonly_fields = ["site", "display_name", "external_id", "members", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
