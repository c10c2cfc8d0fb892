"""Settings of a site: the site itself, SAML and JWT for each audience.

Secrets are write-only: the JWT shared secret is accepted and stored
encrypted, never returned (a fingerprint is); the SAML SP private key is
generated here and never leaves the server (its certificate is returned).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from typing_extensions import override

from api.errors import drf_validation_error
from api.serializers.base import CleanModelSerializer, model_clean
from sso.jwt.keys import JwksUnavailableError, jwks_key_ders, jwks_problem
from sso.jwt.models import Algorithm, JwtSettings, jwks_url_problem
from sso.jwt.separation import KeyRow, served_key_errors
from sso.saml.config import sp_urls
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.secret_store import SECRET_BYTES, secret_encrypt, secret_fingerprint
from tenants.models import Site

TEXT_MAX = 256 * 1024
SECRET_MAX = 512


class LinesField(serializers.ListField):
    """A text column of one value a line, as a JSON list of strings."""

    @override
    def to_representation(self, data: Any) -> list[str]:
        return [line.strip() for line in str(data or "").splitlines() if line.strip()]

    @override
    def to_internal_value(self, data: Any) -> str:  # type: ignore[override]
        return "\n".join(super().to_internal_value(data))


class SiteSettingsSerializer(CleanModelSerializer):
    allowed_origins = LinesField(
        child=serializers.CharField(max_length=300),
        max_length=100,
        required=False,
        help_text="Origins (scheme://host[:port]) that may embed the chat window.",
    )

    class Meta:
        model = Site
        fields: ClassVar = [
            "site_id",
            "name",
            "is_active",
            "allowed_origins",
            "session_lifetime",
            "session_ends_with_browser",
        ]
        # As for operators in the admin: a site's identity is not theirs to change.
        read_only_fields: ClassVar = ["site_id", "is_active"]


class SpUrlsSerializer(serializers.Serializer[Any]):
    entity_id = serializers.URLField(help_text="The SP's entity ID: its metadata URL.")
    metadata = serializers.URLField()
    acs = serializers.URLField(help_text="Assertion Consumer Service, HTTP-POST.")
    sls = serializers.URLField(help_text="Single logout.")


class SamlSettingsSerializer(CleanModelSerializer):
    sp = serializers.SerializerMethodField(help_text="What to give the identity provider.")

    class Meta:
        model = SamlSettings
        fields: ClassVar = [
            "audience",
            "enabled",
            "source",
            "metadata_xml",
            "metadata_url",
            "idp_entity_id",
            "sso_url",
            "sso_binding",
            "slo_url",
            "signing_cert",
            "signing_cert_next",
            "email_attribute",
            "allow_idp_initiated",
            "authn_requests_signed",
            "assertions_encrypted",
            "allow_sha1",
            "mfa_required",
            "mfa_context_refs",
            "sp_certificate",
            "sp",
            "updated_at",
        ]
        read_only_fields: ClassVar = ["audience", "sp_certificate", "updated_at"]
        extra_kwargs: ClassVar = {
            "metadata_xml": {"max_length": TEXT_MAX},
            "signing_cert": {"max_length": TEXT_MAX},
            "signing_cert_next": {"max_length": TEXT_MAX},
        }

    @override
    def create(self, validated_data: dict[str, Any]) -> SamlSettings:
        return self._save(SamlSettings(), validated_data)

    @override
    def update(self, instance: SamlSettings, validated_data: dict[str, Any]) -> SamlSettings:
        return self._save(instance, validated_data)

    def _save(self, settings: SamlSettings, validated_data: dict[str, Any]) -> SamlSettings:
        """Save through the service the admin's rules live in: validation, the
        metadata (a metadata URL is fetched) and the SP key pair."""
        for name, value in validated_data.items():
            setattr(settings, name, value)
        try:
            return saml_settings_save(settings)
        except DjangoValidationError as error:
            raise drf_validation_error(error) from None

    def get_sp(self, obj: SamlSettings) -> dict[str, str]:
        urls = sp_urls(self.context["request"], site=obj.site, audience=obj.audience)
        return SpUrlsSerializer({"entity_id": urls["metadata"], **urls}).data


class JwtSettingsSerializer(CleanModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=SECRET_BYTES,
        max_length=SECRET_MAX,
        trim_whitespace=False,
        help_text=f"HS256 shared secret, at least {SECRET_BYTES} random bytes. Write-only.",
    )
    has_secret = serializers.SerializerMethodField()
    callback_url = serializers.SerializerMethodField(help_text="Where the IdP posts the JWT.")

    class Meta:
        model = JwtSettings
        fields: ClassVar = [
            "audience",
            "enabled",
            "login_url",
            "logout_url",
            "algorithm",
            "secret",
            "has_secret",
            "secret_fingerprint",
            "secret_created_at",
            "public_key",
            "public_key_id",
            "next_public_key",
            "next_public_key_id",
            "jwks_url",
            "expected_issuer",
            "expected_audience",
            "max_age",
            "leeway",
            "max_token_bytes",
            "jit_enabled",
            "jit_role",
            "mfa_required",
            "mfa_methods",
            "callback_url",
            "updated_at",
        ]
        read_only_fields: ClassVar = [
            "audience",
            "secret_fingerprint",
            "secret_created_at",
            "updated_at",
        ]
        extra_kwargs: ClassVar = {
            "public_key": {"max_length": TEXT_MAX},
            "next_public_key": {"max_length": TEXT_MAX},
        }

    def get_has_secret(self, obj: JwtSettings) -> bool:
        return bool(obj.secret_encrypted)

    def get_callback_url(self, obj: JwtSettings) -> str:
        path = reverse(f"sso:{obj.audience}-jwt", kwargs={"site_id": obj.site.site_id})
        url: str = self.context["request"].build_absolute_uri(path)
        return url

    @override
    def create(self, validated_data: dict[str, Any]) -> JwtSettings:
        return self._save(JwtSettings(), validated_data)

    @override
    def update(self, instance: JwtSettings, validated_data: dict[str, Any]) -> JwtSettings:
        return self._save(instance, validated_data)

    def _save(self, config: JwtSettings, validated_data: dict[str, Any]) -> JwtSettings:
        secret = validated_data.pop("secret", None)
        for name, value in validated_data.items():
            setattr(config, name, value)
        if secret is not None:
            config.secret_encrypted = secret_encrypt(secret)
            config.secret_fingerprint = secret_fingerprint(secret)
            config.secret_created_at = timezone.now()
        model_clean(config)
        _check_served_keys(config)
        config.save()
        return config


def _served(config: KeyRow) -> frozenset[bytes]:
    try:
        return jwks_key_ders(config.jwks_url, config.algorithm)
    except JwksUnavailableError:
        return frozenset()


def _check_served_keys(config: JwtSettings) -> None:
    """Fetch a JWKS URL as the admin form does, so a typo shows on save."""
    if config.algorithm == Algorithm.HS256:
        return
    errors: dict[str, list[str]] = {}
    if config.jwks_url and not jwks_url_problem(config.jwks_url):
        problem = jwks_problem(config.jwks_url, config.algorithm)
        if problem:
            errors["jwks_url"] = [problem]
    if not errors:
        errors = served_key_errors(config, others=config.other_audience_settings(), served=_served)
    if errors:
        raise serializers.ValidationError(errors)
