from __future__ import annotations

from django.contrib import admin

from campaigns.models import Campaign
from tenants.admin import SiteScopedAdmin


@admin.register(Campaign)
class CampaignAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "signin_mode", "prechat_survey", "is_active"]
    list_editable = ["signin_mode", "prechat_survey", "is_active"]
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter),
        "signin_mode",
        "is_active",
    ]
    search_fields = ["name"]
