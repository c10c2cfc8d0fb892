"""Per-site, per-audience JWT sign-in settings."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from typing_extensions import override

from sso.jwt.separation import shared_key_errors
from sso_site.secret_store import SECRET_BYTES, secret_decrypt
from tenants.models import Agent, Audience, Site, SiteOwned
from tenants.site_record import site_record_feeds

RSA_MIN_BITS = 2048


class Algorithm(models.TextChoices):
    HS256 = "HS256", "HS256 (shared secret)"
    RS256 = "RS256", "RS256 (RSA public key)"
    ES256 = "ES256", "ES256 (ECDSA P-256 public key)"


class JwtSettings(SiteOwned):
    """How one site signs its agents (or visitors) in with JWTs.

    Exactly one algorithm per row: a token whose header names another is
    refused before any key is touched, which is what rules out ``none`` and
    the HS256-with-a-public-key confusion.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="jwt_settings")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AGENT)
    enabled = models.BooleanField(default=False)
    login_url = models.URLField(
        "remote login URL",
        max_length=500,
        help_text="Where agents authenticate; we add return_to=<our JWT callback URL>.",
    )
    logout_url = models.URLField(
        "remote logout URL",
        max_length=500,
        blank=True,
        help_text="Where agents go after signing out here (optional).",
    )
    algorithm = models.CharField(max_length=5, choices=Algorithm.choices, default=Algorithm.RS256)
    # Fernet ciphertext; see sso_site.secret_store. Never shown in a form.
    secret_encrypted = models.TextField(blank=True, editable=False)
    secret_fingerprint = models.CharField(max_length=12, blank=True, editable=False)
    secret_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Rotation with overlap (lifecycle app): the "next" secret or key verifies
    # beside the current one until ``rotation_ends_at``; from then on only
    # the next one does, and the periodic job makes it the current one.
    next_secret_encrypted = models.TextField(blank=True, editable=False)
    next_secret_fingerprint = models.CharField(max_length=12, blank=True, editable=False)
    rotation_ends_at = models.DateTimeField(
        "retire the current key at",
        null=True,
        blank=True,
        help_text="During a rotation: when the current secret/key stops verifying.",
    )
    public_key = models.TextField(
        "public key (PEM)", blank=True, help_text="RS256/ES256: the key tokens are signed with."
    )
    public_key_id = models.CharField(
        "its key ID (kid)", max_length=200, blank=True, help_text="Optional; matched to 'kid'."
    )
    next_public_key = models.TextField(
        "second public key (PEM)",
        blank=True,
        help_text="During a rotation: the other key that may sign tokens.",
    )
    next_public_key_id = models.CharField("its key ID (kid)", max_length=200, blank=True)
    jwks_url = models.URLField(
        "JWKS URL",
        max_length=500,
        blank=True,
        help_text="Instead of PEM keys: a JSON Web Key Set, keys selected by 'kid'.",
    )
    expected_issuer = models.CharField("expected iss", max_length=500, blank=True)
    expected_audience = models.CharField("expected aud", max_length=500, blank=True)
    max_age = models.PositiveIntegerField(
        "maximum token age (seconds)",
        default=300,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
        help_text="exp - iat may not exceed this, nor may iat be older.",
    )
    leeway = models.PositiveIntegerField(
        "clock leeway (seconds)", default=60, validators=[MaxValueValidator(300)]
    )
    max_token_bytes = models.PositiveIntegerField(
        "maximum token size (bytes)",
        default=8192,
        validators=[MinValueValidator(256), MaxValueValidator(65536)],
    )
    jit_enabled = models.BooleanField(
        "create unknown agents", default=False, help_text="Just-in-time creation on sign-in."
    )
    jit_role = models.CharField(
        "role of created agents", max_length=20, choices=Agent.Role.choices, default="agent"
    )
    mfa_required = models.BooleanField("require MFA", default=False)
    mfa_methods = models.CharField(
        "accepted amr methods",
        max_length=200,
        blank=True,
        default="mfa otp hwk swk",
        help_text="Space-separated; the token's 'amr' must contain one of them.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "JWT sign-in settings"
        verbose_name_plural = "JWT sign-in settings"
        constraints: ClassVar = [
            models.UniqueConstraint("site", "audience", name="jwt_settings_unique_per_audience")
        ]

    def __str__(self) -> str:
        return f"JWT ({self.algorithm}) for {self.get_audience_display()}s of {self.site}"

    @property
    def accepted_amr(self) -> frozenset[str]:
        """Return the accepted ``amr`` methods."""
        return frozenset(self.mfa_methods.split())

    def other_audience_settings(self) -> models.QuerySet[JwtSettings]:
        """Return the site's settings of the other audience (none without a site)."""
        if self.site_id is None:
            return JwtSettings.objects.none()
        others = JwtSettings.objects.filter(site_id=self.site_id).exclude(audience=self.audience)
        return others.exclude(pk=self.pk) if self.pk is not None else others

    @override
    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.algorithm == Algorithm.HS256:
            _clean_secret(self, errors)
        else:
            _clean_public_keys(self, errors)
        others = self.other_audience_settings()
        for field, messages in shared_key_errors(self, others=others).items():
            errors.setdefault(field, []).extend(messages)
        if self.mfa_required and not self.accepted_amr:
            errors.setdefault("mfa_methods", []).append("List at least one accepted method.")
        if errors:
            raise ValidationError(errors)


site_record_feeds(JwtSettings)


def _clean_secret(obj: JwtSettings, errors: dict[str, list[str]]) -> None:
    if obj.public_key or obj.next_public_key or obj.jwks_url:
        errors.setdefault("algorithm", []).append(
            "HS256 uses the shared secret only: clear the public keys and the JWKS URL."
        )
    if not obj.secret_encrypted:
        if obj.enabled:
            errors.setdefault("enabled", []).append(
                "Generate a shared secret first (button below), then enable."
            )
        return
    raw = secret_decrypt(obj.secret_encrypted)
    if raw is None:
        errors.setdefault("enabled", []).append(
            "The stored secret cannot be decrypted (SECRET_KEY changed?); generate a new one."
        )
    elif len(raw.encode()) < SECRET_BYTES:
        errors.setdefault("enabled", []).append(
            f"The shared secret is too short: at least {SECRET_BYTES} bytes are required."
        )


def _clean_public_keys(obj: JwtSettings, errors: dict[str, list[str]]) -> None:
    if obj.jwks_url and jwks_url_problem(obj.jwks_url):
        errors.setdefault("jwks_url", []).append(jwks_url_problem(obj.jwks_url))
    if obj.jwks_url and (obj.public_key or obj.next_public_key):
        errors.setdefault("jwks_url", []).append("Use either PEM public keys or a JWKS URL.")
    if not (obj.jwks_url or obj.public_key):
        errors.setdefault("public_key", []).append(
            f"{obj.algorithm} needs a public key (PEM) or a JWKS URL."
        )
    for field in ("public_key", "next_public_key"):
        pem = getattr(obj, field).strip()
        if pem:
            message = pem_problem(pem, algorithm=obj.algorithm)
            if message:
                errors.setdefault(field, []).append(message)
    if obj.public_key and obj.next_public_key:
        if obj.public_key_id and obj.public_key_id == obj.next_public_key_id:
            errors.setdefault("next_public_key_id", []).append("The two key IDs must differ.")
    elif obj.next_public_key_id and not obj.next_public_key:
        errors.setdefault("next_public_key", []).append("Paste the key this ID names.")


def jwks_url_problem(url: str) -> str:
    """Return why ``url`` may not serve keys, or "" if it may."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (
        parts.scheme == "http" and getattr(settings, "SSO_JWKS_ALLOW_HTTP", False)
    ):
        return ""
    return "The JWKS URL must use https."


def pem_problem(pem: str, *, algorithm: str) -> str:
    """Return why ``pem`` cannot verify ``algorithm`` tokens, or "" if it can."""
    if "PRIVATE KEY" in pem:
        return "This is a private key. Paste the public key only, and keep the private key safe."
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return "Not a PEM public key (expected -----BEGIN PUBLIC KEY-----)."
    if algorithm == Algorithm.RS256:
        if not isinstance(key, rsa.RSAPublicKey):
            return f"RS256 needs an RSA key; this is a {_key_kind(key)} key."
        if key.key_size < RSA_MIN_BITS:
            return f"The RSA key has {key.key_size} bits; at least {RSA_MIN_BITS} are required."
    elif algorithm == Algorithm.ES256:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return f"ES256 needs an EC P-256 key; this is a {_key_kind(key)} key."
        if not isinstance(key.curve, ec.SECP256R1):
            return f"ES256 needs the P-256 curve; this key is on {key.curve.name}."
    return ""


def _key_kind(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__.removesuffix("PublicKey").lstrip("_") or "different"
