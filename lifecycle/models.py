"""Refresh state of IdP metadata and JWKS, expiry warnings, job runs.

Kept beside the SAML and JWT settings (one-to-one) rather than on them, so
that the protocol adapters' models stay as they are.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sso.jwt.models import JwtSettings
from sso.saml.models import SamlSettings
from tenants.models import Site, SiteOwned


class MetadataRefresh(SiteOwned):
    """The periodic refresh of one SAML settings row's metadata URL."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    saml_settings = models.OneToOneField(
        SamlSettings, on_delete=models.CASCADE, related_name="refresh"
    )
    metadata_signing_cert = models.TextField(
        "metadata signing certificate (PEM)",
        blank=True,
        help_text="When set, fetched metadata must carry a valid signature by this certificate.",
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_refreshed_at = models.DateTimeField(
        "last refreshed", null=True, blank=True, editable=False
    )
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    valid_until = models.DateTimeField("metadata validUntil", null=True, blank=True, editable=False)
    # [{"sha256": ..., "not_after": iso, "first_seen": iso}] of the published signing certs.
    certificates = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = "IdP metadata refresh"

    def __str__(self) -> str:
        return f"Metadata refresh of {self.saml_settings}"


class JwksRefresh(SiteOwned):
    """The periodic refresh of one JWT settings row's JWKS URL."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    jwt_settings = models.OneToOneField(
        JwtSettings, on_delete=models.CASCADE, related_name="jwks_refresh"
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_refreshed_at = models.DateTimeField(
        "last refreshed", null=True, blank=True, editable=False
    )
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    kids = models.JSONField("published key IDs", default=list, blank=True, editable=False)

    class Meta:
        verbose_name = "JWKS refresh"

    def __str__(self) -> str:
        return f"JWKS refresh of {self.jwt_settings}"


class SiteRetention(SiteOwned):
    """How long a site's audit events and webhook deliveries are kept."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="retention")
    days = models.PositiveIntegerField(
        "keep audit events and deliveries (days)",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )

    def __str__(self) -> str:
        return f"{self.days} days for {self.site}"


class ExpiryWarning(SiteOwned):
    """A warning sent once per thing and threshold (30/7/1 days)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200)  # e.g. "IdP signing certificate <sha256>"
    expires_at = models.DateTimeField()
    threshold_days = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["expires_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site", "subject", "expires_at", "threshold_days", name="expiry_warning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} expires {self.expires_at:%Y-%m-%d}"


class JobRun(models.Model):
    """The last run of one periodic job, for the admin."""

    name = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class KeyRotation(JwtSettings):
    """The JWT settings seen as keys to rotate (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "JWT key rotation"


class SpCertificateRenewal(SiteOwned):
    """The SP's next key pair: published in its metadata beside the current
    certificate until ``switch_at``, then it becomes the current one.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    saml_settings = models.OneToOneField(
        SamlSettings, on_delete=models.CASCADE, related_name="sp_renewal"
    )
    switch_at = models.DateTimeField(
        "switch to the next certificate at",
        help_text="Give the IdP time to read the new metadata first (days, not minutes).",
    )
    # Fernet ciphertext (sso_site.secret_store), as the current SP key.
    next_private_key_encrypted = models.TextField(editable=False)
    next_certificate = models.TextField("next SP certificate", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SP certificate renewal"

    def __str__(self) -> str:
        return f"SP certificate renewal of {self.saml_settings}"
