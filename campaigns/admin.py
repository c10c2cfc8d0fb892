from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest

from campaigns.models import Campaign, Visitor
from tenants.admin import SiteScopedAdmin

# Inlines other apps add under a campaign (the chats app: routing rules).
CAMPAIGN_INLINES: list[type[InlineModelAdmin[Any, Any]]] = []


@admin.register(Campaign)
class CampaignAdmin(SiteScopedAdmin):
    list_display = [
        "name",
        "site",
        "signin_mode",
        "prechat_survey",
        "visitor_sso",
        "default_group",
        "is_active",
    ]
    list_editable = ["signin_mode", "prechat_survey", "is_active"]
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter),
        "signin_mode",
        "is_active",
    ]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["site", "name", "display_name", "is_active"]}),
        ("Look of the window", {"fields": ["accent_color", "logo_url"]}),
        ("Visitors", {"fields": ["signin_mode", "visitor_sso"]}),
        ("Pre-chat survey", {"fields": ["prechat_survey", "survey_fields"]}),
        ("Routing", {"fields": ["default_group"]}),
    ]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_inlines(request, obj), *CAMPAIGN_INLINES]


@admin.register(Visitor)
class VisitorAdmin(SiteScopedAdmin):
    """Visitors come from sign-ins: read-only here."""

    list_display = ["external_id", "name", "email", "site", "last_sign_in_at", "last_protocol"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "last_protocol"]
    search_fields = ["external_id", "name", "email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
