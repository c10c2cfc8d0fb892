"""Per-site OpenID Connect provider settings."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from tenants.models import Audience, Site, SiteOwned

DEFAULT_AMR = "mfa\notp\nhwk\nswk"


class OidcSettings(SiteOwned):
    """How one site's agents sign in with an OpenID Connect provider."""

    class ClientAuth(models.TextChoices):
        SECRET_BASIC = "client_secret_basic", "Client secret (HTTP Basic)"
        SECRET_POST = "client_secret_post", "Client secret (form)"
        PRIVATE_KEY_JWT = "private_key_jwt", "Private key JWT (our key pair)"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="oidc_settings")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AGENT)
    enabled = models.BooleanField(default=True)
    issuer = models.URLField(
        "issuer URL",
        max_length=500,
        help_text="The provider's issuer; its discovery document is read from "
        "<issuer>/.well-known/openid-configuration.",
    )
    client_id = models.CharField("client ID", max_length=255)
    client_auth = models.CharField(
        "client authentication",
        max_length=30,
        choices=ClientAuth.choices,
        default=ClientAuth.SECRET_BASIC,
    )
    # Fernet ciphertexts (sso_site.secret_store): the client secret, or the PEM
    # private key of private_key_jwt. Never rendered again once saved.
    client_secret_encrypted = models.TextField(editable=False, blank=True)
    private_key_encrypted = models.TextField(editable=False, blank=True)
    private_key_kid = models.CharField(max_length=64, editable=False, blank=True)
    scopes = models.CharField(max_length=300, default="openid email profile")
    identity_claim = models.CharField(
        max_length=100,
        default="email",
        help_text="ID token claim holding the agent's email.",
    )
    mfa_required = models.BooleanField("require MFA at the provider", default=False)
    mfa_amr_values = models.TextField(
        "accepted amr values",
        blank=True,
        default=DEFAULT_AMR,
        help_text="One per line; with MFA required, the ID token's amr must name one.",
    )
    mfa_acr_values = models.TextField(
        "accepted acr values",
        blank=True,
        help_text="One per line; with MFA required, an acr named here also satisfies it.",
    )
    logout_enabled = models.BooleanField(
        "RP-initiated logout",
        default=True,
        help_text="Send signed-out agents to the provider's end_session_endpoint, if any.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "OpenID Connect settings"
        verbose_name_plural = "OpenID Connect settings"
        constraints: ClassVar = [
            models.UniqueConstraint("site", "audience", name="oidc_settings_unique_per_audience")
        ]

    def __str__(self) -> str:
        return f"OpenID Connect for {self.get_audience_display().lower()}s of {self.site}"

    @property
    def amr_list(self) -> list[str]:
        return [line.strip() for line in self.mfa_amr_values.splitlines() if line.strip()]

    @property
    def acr_list(self) -> list[str]:
        return [line.strip() for line in self.mfa_acr_values.splitlines() if line.strip()]
