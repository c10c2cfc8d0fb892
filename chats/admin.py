"""Routing rules edited under their campaign; chats readable by operators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from campaigns.admin import CAMPAIGN_INLINES
from chats.models import Chat, RoutingRule
from tenants.admin import SiteScopedAdmin


class RoutingRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    """The campaign's rules, tried in order; the campaign's default group otherwise."""

    model = RoutingRule
    fields = ["order", "field", "operator", "value", "group"]
    extra = 0
    verbose_name = "routing rule"


if RoutingRuleInline not in CAMPAIGN_INLINES:
    CAMPAIGN_INLINES.append(RoutingRuleInline)


@admin.register(Chat)
class ChatAdmin(SiteScopedAdmin):
    """Chats happen in the console: read-only here."""

    list_display = ["pk", "site", "campaign", "visitor", "guest_label", "status", "group", "agent"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "status", "group"]
    search_fields = ["guest_label", "visitor__name", "visitor__external_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
