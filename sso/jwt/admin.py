"""Admin of JWT settings; the shared secret is generated here and shown once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from typing_extensions import override

from sso.jwt.keys import JwksUnavailableError, jwks_key_ders, jwks_problem
from sso.jwt.models import Algorithm, JwtSettings, jwks_url_problem
from sso.jwt.separation import KeyRow, served_key_errors
from sso.jwt.services import jwt_secret_rotate
from tenants.admin import SiteScopedAdmin


def _served_ders(config: KeyRow) -> frozenset[bytes]:
    try:
        return jwks_key_ders(config.jwks_url, config.algorithm)
    except JwksUnavailableError:
        return frozenset()  # nothing to compare; sign-ins are refused meanwhile


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class JwtSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    """Check a JWKS URL by fetching it, so a typo shows on save, not at sign-in."""

    class Meta:
        model = JwtSettings
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose
        formfield_callback = _formfield

    @override
    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        url, algorithm = cleaned.get("jwks_url"), cleaned.get("algorithm", "")
        # (jwks_url_problem is the model's to report.)
        if url and algorithm != Algorithm.HS256 and not jwks_url_problem(url) and not self.errors:
            problem = jwks_problem(url, algorithm)
            if problem:
                self.add_error("jwks_url", problem)
        if cleaned.get("site") and algorithm != Algorithm.HS256 and not self.errors:
            self._check_served_keys(cleaned)
        return cleaned

    def _check_served_keys(self, cleaned: dict[str, Any]) -> None:
        # A key served by a JWKS URL, on either side, compared with the other
        # audience's keys (the model compares what it holds without fetching).
        fields = ("site", "audience", "algorithm", "public_key", "next_public_key", "jwks_url")
        config = JwtSettings(pk=self.instance.pk, **{f: cleaned.get(f) or "" for f in fields})
        others = config.other_audience_settings()
        errors = served_key_errors(config, others=others, served=_served_ders)
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)


@admin.register(JwtSettings)
class JwtSettingsAdmin(SiteScopedAdmin):
    form = JwtSettingsForm
    list_display = ["site", "audience", "enabled", "algorithm", "key_source", "updated_at"]
    list_filter = ["enabled", "algorithm", "audience"]
    search_fields = ["site__name", "=site__site_id"]
    autocomplete_fields = ["site"]
    readonly_fields = ["shared_secret", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["site", "audience", "enabled", "login_url", "logout_url"]}),
        (
            "Keys",
            {
                "fields": [
                    "algorithm",
                    "shared_secret",
                    ("public_key", "public_key_id"),
                    ("next_public_key", "next_public_key_id"),
                    "jwks_url",
                ],
                "description": "HS256: a shared secret. RS256/ES256: PEM keys or a JWKS URL.",
            },
        ),
        (
            "Checks",
            {
                "fields": [
                    "expected_issuer",
                    "expected_audience",
                    "max_age",
                    "leeway",
                    "max_token_bytes",
                    "mfa_required",
                    "mfa_methods",
                ]
            },
        ),
        ("New agents", {"fields": ["jit_enabled", "jit_role"]}),
    ]

    @admin.display(description="keys")
    def key_source(self, obj: JwtSettings) -> str:
        if obj.algorithm == Algorithm.HS256:
            return f"secret {obj.secret_fingerprint}…" if obj.secret_fingerprint else "no secret"
        if obj.jwks_url:
            return "JWKS URL"
        return "two PEM keys" if obj.next_public_key else "PEM key"

    @admin.display(description="shared secret (HS256)")
    def shared_secret(self, obj: JwtSettings | None) -> str:
        # Only a fingerprint is ever rendered; the raw value is shown once,
        # on the page that generated it.
        if obj is None or obj.pk is None:
            return "Save first, then generate a secret."
        url = reverse("admin:sso_jwt_jwtsettings_secret", args=[obj.pk])
        if not obj.secret_fingerprint:
            return format_html('Not set. <a href="{}">Generate a secret</a>', url)
        return format_html(
            'Set {} (fingerprint {}). <a href="{}">Generate a new secret</a>',
            obj.secret_created_at.strftime("%Y-%m-%d %H:%M UTC") if obj.secret_created_at else "",
            obj.secret_fingerprint,
            url,
        )

    @override
    def get_urls(self) -> list[URLPattern]:
        secret = path(
            "<path:object_id>/secret/",
            self.admin_site.admin_view(self.secret_view),
            name="sso_jwt_jwtsettings_secret",
        )
        return [secret, *super().get_urls()]

    def secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm (GET), then generate a new secret and show it once (POST)."""
        obj = self.get_object(request, object_id)  # scoped to the operator's sites
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": "Shared secret",
            "change_url": reverse("admin:sso_jwt_jwtsettings_change", args=[obj.pk]),
        }
        if request.method != "POST":
            return TemplateResponse(request, "admin/sso_jwt/secret_confirm.html", context)
        context["secret"] = jwt_secret_rotate(config=obj)
        self.log_change(request, obj, [{"changed": {"fields": ["shared secret"]}}])
        response = TemplateResponse(request, "admin/sso_jwt/secret_shown.html", context)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
