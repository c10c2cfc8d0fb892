"""SAML settings in the admin, scoped to the operator's sites."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_keys_ensure, saml_settings_metadata_derive
from tenants.admin import SiteScopedAdmin


class SamlSettingsForm(ModelForm):  # type: ignore[type-arg]
    """Derives the IdP metadata once the entered values are valid."""

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and not self.errors and self.instance.site_id is not None:
            try:
                saml_settings_metadata_derive(self.instance)
            except ValidationError as exc:
                self.add_error(None, exc)


@admin.register(SamlSettings)
class SamlSettingsAdmin(SiteScopedAdmin):
    """Validation of what was entered is ``SamlSettings.clean()``'s; the
    form then derives the metadata (fetching a metadata URL) through the
    service, so a fetch error is shown on its field; the SP key pair is
    made on save.
    """

    form = SamlSettingsForm

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["site", "audience", "enabled", "idp_entity_id", "weak_sha1", "updated_at"]
    list_filter = ["audience", "enabled", "allow_sha1"]
    readonly_fields = ["idp_entity_id_derived", "sp_certificate", "updated_at"]
    fieldsets = [
        (None, {"fields": ["site", "audience", "enabled"]}),
        (
            "Identity provider",
            {
                "fields": [
                    "source",
                    "metadata_xml",
                    "metadata_url",
                    "idp_entity_id",
                    "sso_url",
                    "sso_binding",
                    "slo_url",
                    "signing_cert",
                    "signing_cert_next",
                ]
            },
        ),
        (
            "Policy",
            {
                "fields": [
                    "email_attribute",
                    "allow_idp_initiated",
                    "mfa_required",
                    "mfa_context_refs",
                    "allow_sha1",
                ]
            },
        ),
        (
            "Signing and encryption",
            {
                "fields": [
                    "authn_requests_signed",
                    "assertions_encrypted",
                ]
            },
        ),
        (
            "This service (SP)",
            {"fields": ["idp_entity_id_derived", "sp_certificate", "updated_at"]},
        ),
    ]

    @admin.display(boolean=True, description="weak: SHA-1 allowed")
    def weak_sha1(self, obj: SamlSettings) -> bool:
        return obj.allow_sha1

    @admin.display(description="IdP entity ID in use")
    def idp_entity_id_derived(self, obj: SamlSettings) -> str:
        return obj.idp_entity_id

    def save_model(
        self, request: HttpRequest, obj: SamlSettings, form: ModelForm[Any], change: bool
    ) -> None:
        saml_settings_keys_ensure(obj)
        super().save_model(request, obj, form, change)
        if obj.allow_sha1:
            self.message_user(
                request,
                "SHA-1 signatures are accepted for this site: this is weak; "
                "turn it off as soon as the identity provider signs with SHA-256.",
                messages.WARNING,
            )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("audience")
        return readonly
