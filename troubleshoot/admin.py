"""The health panel and the console's links on the site's admin page: an
inline under the site (``SITE_INLINES``) that lists no rows of its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants.admin import SITE_INLINES
from tenants.models import LoginEvent
from troubleshoot.selectors import site_health


class SsoHealthInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LoginEvent
    template = "admin/troubleshoot/health_inline.html"
    verbose_name_plural = "SSO health"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return LoginEvent.objects.none()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.health = site_health(site=obj) if obj is not None else None  # type: ignore[attr-defined]
        return formset


SITE_INLINES.append(SsoHealthInline)
