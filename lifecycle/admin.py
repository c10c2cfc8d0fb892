"""Lifecycle in the admin: refresh state ("last refreshed", "last error"),
key rotations and which key verified the last sign-ins, expiry warnings,
retention, and each periodic job's last run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from lifecycle.models import (
    ExpiryWarning,
    JobRun,
    JwksRefresh,
    KeyRotation,
    MetadataRefresh,
    SiteRetention,
    SpCertificateRenewal,
)
from lifecycle.services import (
    jwks_refresh_now,
    key_rotation_finish,
    key_rotation_start,
    metadata_refresh,
)
from lifecycle.sp_renewal import sp_renewal_start
from sso.jwt.keys import key_use_recent
from sso.jwt.models import JwtSettings
from tenants.admin import SITE_INLINES, SiteScopedAdmin

ROTATION_OVERLAP = timedelta(days=7)


@admin.register(MetadataRefresh)
class MetadataRefreshAdmin(SiteScopedAdmin):
    list_display = ("saml_settings", "last_refreshed_at", "last_error", "valid_until")
    readonly_fields = (
        "last_attempt_at",
        "last_refreshed_at",
        "last_error",
        "valid_until",
        "certificates",
    )
    actions = ("refresh_now",)

    @admin.action(description="Refresh the metadata now")
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[MetadataRefresh]) -> None:
        for state in queryset.select_related("saml_settings__site"):
            state = metadata_refresh(saml_settings=state.saml_settings)
            level = messages.ERROR if state.last_error else messages.SUCCESS
            messages.add_message(request, level, f"{state}: {state.last_error or 'refreshed'}")


@admin.register(JwksRefresh)
class JwksRefreshAdmin(SiteScopedAdmin):
    list_display = ("jwt_settings", "last_refreshed_at", "last_error", "kids")
    readonly_fields = ("last_attempt_at", "last_refreshed_at", "last_error", "kids")
    actions = ("refresh_now",)

    @admin.action(description="Refresh the JWKS now")
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[JwksRefresh]) -> None:
        for state in queryset.select_related("jwt_settings__site"):
            state = jwks_refresh_now(jwt_settings=state.jwt_settings)
            level = messages.ERROR if state.last_error else messages.SUCCESS
            messages.add_message(request, level, f"{state}: {state.last_error or 'refreshed'}")


@admin.register(KeyRotation)
class KeyRotationAdmin(SiteScopedAdmin):
    list_display = (
        "__str__",
        "secret_fingerprint",
        "next_secret_fingerprint",
        "rotation_ends_at",
        "last_keys",
    )
    fields = ("rotation_ends_at",)
    actions = ("start_rotation", "finish_rotation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="keys that verified the last sign-ins")
    def last_keys(self, obj: JwtSettings) -> str:
        recent = key_use_recent(config=obj)[:5]
        return (
            ", ".join(
                f"{label} ({datetime.fromtimestamp(at, tz=UTC):%m-%d %H:%M})"
                for at, label in recent
            )
            or "-"
        )

    @admin.action(description="Start a rotation (next key; old one retired after 7 days)")
    def start_rotation(self, request: HttpRequest, queryset: QuerySet[JwtSettings]) -> None:
        for config in queryset.select_related("site"):
            try:
                raw = key_rotation_start(site=config.site, config=config, overlap=ROTATION_OVERLAP)
            except ValidationError as exc:
                messages.error(request, f"{config}: {' '.join(exc.messages)}")
                continue
            note = f" New secret (shown once): {raw}" if raw else ""
            messages.warning(request, f"{config}: rotation until {config.rotation_ends_at}.{note}")

    @admin.action(description="Finish the rotation now (retire the old key)")
    def finish_rotation(self, request: HttpRequest, queryset: QuerySet[JwtSettings]) -> None:
        for config in queryset.select_related("site"):
            key_rotation_finish(site=config.site, config=config)
        messages.success(request, "Old keys retired.")


@admin.register(ExpiryWarning)
class ExpiryWarningAdmin(SiteScopedAdmin):
    list_display = ("subject", "site", "expires_at", "threshold_days", "sent_at")
    readonly_fields = ("subject", "expires_at", "threshold_days", "sent_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SiteRetention)
class SiteRetentionAdmin(SiteScopedAdmin):
    list_display = ("site", "days")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Superusers only: the periodic jobs are the platform's, not a site's."""

    list_display = ("name", "last_started_at", "last_finished_at", "last_result", "last_error")
    readonly_fields = list_display

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SpCertificateRenewal)
class SpCertificateRenewalAdmin(SiteScopedAdmin):
    """Adding one makes the next SP key pair and publishes its certificate."""

    list_display = ("saml_settings", "switch_at", "created_at")
    fields = ("saml_settings", "switch_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("saml_settings",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        saml_settings = obj.saml_settings
        renewal = sp_renewal_start(
            site=saml_settings.site, saml_settings=saml_settings, switch_at=obj.switch_at
        )
        obj.pk, obj.site_id = renewal.pk, renewal.site_id
        messages.success(request, "The next SP certificate is now in the SP metadata.")


class ExpiryWarningInline(admin.TabularInline):  # type: ignore[type-arg]
    """On the site's page: what expires soon (the admin warning)."""

    model = ExpiryWarning
    extra = 0
    can_delete = False
    fields = ("subject", "expires_at", "threshold_days", "sent_at")
    readonly_fields = fields
    verbose_name_plural = "expiry warnings"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SITE_INLINES.append(ExpiryWarningInline)
