"""Webhook endpoints, events and deliveries in the admin; re-send from here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants.admin import SiteScopedAdmin
from webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery_resend, endpoint_secret_rotate
from webhooks.signing import secret_new


class WebhookEndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    events = forms.MultipleChoiceField(
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("site", "url", "events", "is_active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SiteScopedAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "site", "is_active", "secret_fingerprint", "created_at")
    readonly_fields = ("secret_fingerprint",)
    actions = ("rotate_secret",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not obj.secret_encrypted:
            raw, obj.secret_encrypted, obj.secret_fingerprint = secret_new()
            messages.warning(request, f"The endpoint's signing secret (shown once): {raw}")
        super().save_model(request, obj, form, change)

    @admin.action(description="Generate a new signing secret")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            raw = endpoint_secret_rotate(site=endpoint.site, endpoint=endpoint)
            messages.warning(request, f"New secret for {endpoint.url} (shown once): {raw}")


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "status_code", "error", "duration_ms")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SiteScopedAdmin):
    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = ("status",)
    readonly_fields = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "finished_at",
    )
    inlines = (AttemptInline,)
    actions = ("resend",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-send the selected deliveries")
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("site"):
            delivery_resend(site=delivery.site, delivery=delivery)
        messages.success(request, f"{queryset.count()} deliveries queued again.")
