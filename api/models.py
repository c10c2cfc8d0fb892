"""Per-site API tokens and the change log of what they wrote.

A token is shown once, when created; only its SHA-256 digest is stored. The
secret is 32 random bytes, so a plain hash (no salt, no stretching) is as
strong as the secret itself, and a lookup by digest is one indexed query.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tenants.models import Site, SiteOwned

TOKEN_PREFIX = "sso_"  # noqa: S105 - a marker, not a secret


def token_digest(raw: str) -> str:
    """Return the stored form of a raw token: its SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write (implies read)"
    SCIM = "scim", "SCIM provisioning (/scim/v2/)"


def validate_scopes(value: object) -> None:
    """Raise ValidationError unless ``value`` is a non-empty list of known scopes."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one scope.", code="invalid_scopes")
    unknown = [s for s in value if s not in Scope.values]
    if unknown:
        raise ValidationError(
            "Unknown scope(s): %(unknown)s.",
            params={"unknown": ", ".join(map(str, unknown))},
            code="invalid_scopes",
        )


class ApiToken(SiteOwned):
    """A bearer token of one site's integration."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'HR sync'.")
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    prefix = models.CharField(
        max_length=16, editable=False, help_text="Shown to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"
        ordering: ClassVar = ["site", "-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                "name",
                name="api_token_name_unique_per_site",
                violation_error_message="This site already has a token with this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: Scope | str) -> bool:
        """Return whether the token grants ``scope``; write implies read."""
        if scope == Scope.READ and Scope.WRITE in self.scopes:
            return True
        return scope in self.scopes

    @property
    def state(self) -> str:
        """Return "active", "revoked" or "expired"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class ApiChange(SiteOwned):
    """One write through the API: who (token), what (object) and which fields.

    Field names only, never values: a value may be a secret or personal data.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        DEACTIVATE = "deactivate", "Deactivated"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="api_changes")
    token = models.ForeignKey(
        ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    token_name = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    action = models.CharField(max_length=12, choices=Action.choices)
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API change"
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["site", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.token_name}: {self.action} {self.object_type} {self.object_id}"
