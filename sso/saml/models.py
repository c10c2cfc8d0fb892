"""Per-site, per-audience SAML identity-provider settings and SP key pair."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from sso.saml.metadata import certificate_check, idp_metadata_parse
from tenants.models import Audience, Site, SiteOwned
from tenants.site_record import site_record_feeds

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
    authn_requests_signed = models.BooleanField(
        "sign AuthnRequests",
        default=False,
        help_text="Sign sign-in requests with this service's key (RSA-SHA256), for IdPs that "
        "require it; the SP metadata then says AuthnRequestsSigned.",
    )
    assertions_encrypted = models.BooleanField(
        "encrypted assertions",
        default=False,
        help_text="Publish this service's encryption certificate in its metadata, so the IdP "
        "can encrypt assertions (AES-GCM or AES-CBC, RSA-OAEP key transport).",
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
    # Fernet ciphertext of the SP's private key PEM; see sso_site.secret_store.
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
        """Validate what the admin entered, without side effects: the fetch
        of a metadata URL and the SP key pair are ``sso.saml.services``'.
        """
        errors: dict[str, list[str]] = {}
        if self.source == self.Source.URL and not self.metadata_url:
            errors["metadata_url"] = ["Enter the IdP's metadata URL."]
        elif self.source == self.Source.XML:
            if not self.metadata_xml.strip():
                errors["metadata_xml"] = ["Paste the IdP's metadata XML."]
            else:
                _collect(errors, "metadata_xml", idp_metadata_parse, self.metadata_xml.strip())
        elif self.source == self.Source.MANUAL:
            required = {
                "idp_entity_id": "Enter the IdP's entity ID.",
                "sso_url": "Enter the IdP's single sign-on URL.",
                "signing_cert": "Paste the IdP's signing certificate.",
            }
            for field, message in required.items():
                if not getattr(self, field).strip():
                    errors[field] = [message]
            if self.signing_cert.strip():
                _collect(errors, "signing_cert", certificate_check, self.signing_cert)
        if self.signing_cert_next.strip():
            _collect(
                errors,
                "signing_cert_next",
                certificate_check,
                self.signing_cert_next,
                label="second certificate",
            )
        if self.mfa_required and not self.mfa_context_list:
            errors["mfa_context_refs"] = [
                "List at least one AuthnContextClassRef when MFA is required."
            ]
        if errors:
            raise ValidationError(errors)

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


def _collect(
    errors: dict[str, list[str]], field: str, check: Any, *args: Any, **kwargs: Any
) -> None:
    try:
        check(*args, **kwargs)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)


# Sign-ins read these settings from the site's record (``sso.saml.config``).
site_record_feeds(SamlSettings)
