"""Admin of OpenID Connect settings; the client secret is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from typing_extensions import override

from sso.oidc.fetch import oidc_url_problem
from sso.oidc.keys import private_key_generate
from sso.oidc.models import OidcSettings
from sso_site.secret_store import secret_decrypt, secret_encrypt, secret_fingerprint
from tenants.admin import SiteScopedAdmin


class OidcSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    issuer = forms.URLField(
        label="issuer URL",
        max_length=500,
        assume_scheme="https",
        help_text=OidcSettings._meta.get_field("issuer").help_text,
    )
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown again; leave empty to keep the current one.",
    )
    generate_key = forms.BooleanField(
        label="generate a new key pair for private_key_jwt",
        required=False,
        help_text="Register the JWKS URL below with the provider.",
    )

    class Meta:
        model = OidcSettings
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose

    @override
    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        issuer = cleaned.get("issuer")
        problem = oidc_url_problem(issuer) if issuer else ""
        if problem:
            self.add_error("issuer", f"This issuer cannot be used: {problem}.")
        auth = cleaned.get("client_auth")
        has_secret = cleaned.get("client_secret") or self.instance.client_secret_encrypted
        has_key = cleaned.get("generate_key") or self.instance.private_key_encrypted
        if auth == OidcSettings.ClientAuth.PRIVATE_KEY_JWT and not has_key:
            self.add_error("generate_key", "private_key_jwt needs a key pair: generate one.")
        elif auth != OidcSettings.ClientAuth.PRIVATE_KEY_JWT and not has_secret:
            self.add_error("client_secret", "Enter the client secret the provider issued.")
        return cleaned

    @override
    def save(self, commit: bool = True) -> OidcSettings:
        config: OidcSettings = super().save(commit=False)
        if self.cleaned_data.get("client_secret"):
            config.client_secret_encrypted = secret_encrypt(self.cleaned_data["client_secret"])
        if self.cleaned_data.get("generate_key"):
            private_key_generate(config)
        if commit:
            config.save()
        return config


@admin.register(OidcSettings)
class OidcSettingsAdmin(SiteScopedAdmin):
    form = OidcSettingsForm
    list_display = ["site", "audience", "enabled", "issuer", "client_auth", "updated_at"]
    list_filter = ["enabled", "client_auth"]
    search_fields = ["site__name", "=site__site_id"]
    autocomplete_fields = ["site"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["secret_fingerprint", "provider_urls", "updated_at"]
    fieldsets = [
        (None, {"fields": ["site", "audience", "enabled", "issuer", "scopes", "identity_claim"]}),
        (
            "Client",
            {
                "fields": [
                    "client_id",
                    "client_auth",
                    "client_secret",
                    "secret_fingerprint",
                    "generate_key",
                ]
            },
        ),
        ("MFA policy", {"fields": ["mfa_required", "mfa_amr_values", "mfa_acr_values"]}),
        ("For the provider", {"fields": ["provider_urls", "logout_enabled", "updated_at"]}),
    ]

    @admin.display(description="client secret / key")
    def secret_fingerprint(self, obj: OidcSettings) -> str:
        stored = obj.client_secret_encrypted or obj.private_key_encrypted
        raw = secret_decrypt(stored) if stored else None
        return f"fingerprint {secret_fingerprint(raw)}" if raw else "-"

    @admin.display(description="redirect URI and JWKS URL")
    def provider_urls(self, obj: OidcSettings) -> str:
        if obj.pk is None:
            return "-"
        kwargs = {"site_id": obj.site.site_id}
        return format_html(
            "Redirect URI: <code>{}</code><br>JWKS (private_key_jwt): <code>{}</code>",
            reverse("sso:agent-oidc-callback", kwargs=kwargs),
            reverse("sso:agent-oidc-jwks", kwargs=kwargs),
        )

    @override
    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "audience": "agent"}
