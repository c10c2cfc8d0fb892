"""Per-site, per-audience SAML identity-provider settings and SP key pair."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.db import models

from tenants.models import Audience, Site, SiteOwned

BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


class SamlSettings(SiteOwned):
    """How one site's agents (or visitors) sign in with SAML.

    The IdP is described by pasted metadata, a metadata URL (fetched and
    validated on save) or by hand; whichever the admin chose is turned into
    ``idp_metadata_xml`` on save, which is what the SP configuration reads.
    """

    class Source(models.TextChoices):
        XML = "xml", "Pasted metadata XML"
        URL = "url", "Metadata URL"
        MANUAL = "manual", "Entered by hand"

    class Binding(models.TextChoices):
        REDIRECT = BINDING_HTTP_REDIRECT, "HTTP-Redirect"
        POST = BINDING_HTTP_POST, "HTTP-POST"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="saml_settings")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AGENT)
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.XML)
    metadata_xml = models.TextField("IdP metadata XML", blank=True)
    metadata_url = models.URLField("IdP metadata URL", blank=True)
    idp_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True)
    sso_url = models.URLField("IdP SSO URL", max_length=500, blank=True)
    sso_binding = models.CharField(
        "SSO binding", max_length=100, choices=Binding.choices, default=Binding.REDIRECT
    )
    slo_url = models.URLField("IdP SLO URL", max_length=500, blank=True)
    signing_cert = models.TextField("IdP signing certificate (PEM)", blank=True)
    signing_cert_next = models.TextField(
        "second IdP signing certificate (PEM)",
        blank=True,
        help_text="Accepted alongside the first one, for certificate rotation.",
    )
    email_attribute = models.CharField(
        max_length=200,
        blank=True,
        help_text="Attribute holding the agent's email; empty: the NameID holds it.",
    )
    allow_idp_initiated = models.BooleanField(
        "allow IdP-initiated sign-in",
        default=False,
        help_text="Accept responses this service did not ask for (unsolicited).",
    )
    allow_password = models.BooleanField(
        "password sign-in stays allowed", default=False, help_text="For agents of this site."
    )
    allow_sha1 = models.BooleanField(
        "allow SHA-1 (weak)",
        default=False,
        help_text="WEAK: accept SHA-1 signatures and digests, only for a legacy IdP.",
    )
    mfa_required = models.BooleanField("require MFA at the IdP", default=False)
    mfa_context_refs = models.TextField(
        "accepted AuthnContextClassRefs",
        blank=True,
        help_text="One per line; with MFA required, the assertion must name one of these.",
    )
    # Derived on save: what the SP configuration actually reads.
    idp_metadata_xml = models.TextField(editable=False, blank=True)
    # Fernet ciphertext of the SP's private key PEM; see sso.secret_store.
    sp_private_key_encrypted = models.TextField(editable=False, blank=True)
    sp_certificate = models.TextField("SP certificate", editable=False, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SAML settings"
        verbose_name_plural = "SAML settings"
        constraints: ClassVar = [
            models.UniqueConstraint("site", "audience", name="saml_settings_unique_per_audience")
        ]

    def __str__(self) -> str:
        return f"SAML for {self.get_audience_display().lower()}s of {self.site}"

    def clean(self) -> None:
        from sso.saml.services import saml_settings_prepare

        if self.site_id is not None:
            saml_settings_prepare(self)

    @property
    def mfa_context_list(self) -> list[str]:
        """Return the accepted AuthnContextClassRefs, one per non-empty line."""
        return [line.strip() for line in self.mfa_context_refs.splitlines() if line.strip()]

    @property
    def version(self) -> str:
        """Return a key that changes whenever these settings change.

        A digest of every stored field, not ``updated_at`` alone: a queryset
        ``.update()`` leaves that untouched. Hashing the few kB of a row costs
        microseconds, against tens of ms to build an SP configuration.
        """
        digest = hashlib.sha256()
        for field in self._meta.concrete_fields:
            digest.update(f"{field.attname}={field.value_from_object(self)!r}\0".encode())
        return f"{self.pk}:{digest.hexdigest()[:32]}"
