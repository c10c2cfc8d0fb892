"""Admin of the agents' access policy (SSO mode, method, networks)."""

from __future__ import annotations

from django.contrib import admin

from access.models import AccessPolicy
from tenants.admin import SiteScopedAdmin


@admin.register(AccessPolicy)
class AccessPolicyAdmin(SiteScopedAdmin):
    list_display = ["site", "agent_method", "sso_mode", "updated_at"]
    list_filter = ["sso_mode", "agent_method"]
    search_fields = ["site__name", "=site__site_id"]
    autocomplete_fields = ["site"]
    readonly_fields = ["updated_at"]
