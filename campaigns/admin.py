from __future__ import annotations

from typing import ClassVar

from django.contrib import admin

from campaigns.models import Campaign
from tenants.admin import SiteScopedAdmin


@admin.register(Campaign)
class CampaignAdmin(SiteScopedAdmin):
    list_display: ClassVar = ["name", "site", "signin_mode", "prechat_survey", "is_active"]
    list_editable: ClassVar = ["signin_mode", "prechat_survey", "is_active"]
    list_filter: ClassVar = [
        ("site", admin.RelatedOnlyFieldListFilter),
        "signin_mode",
        "is_active",
    ]
    search_fields: ClassVar = ["name"]
