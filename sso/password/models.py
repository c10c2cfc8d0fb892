"""Password (plus TOTP) credentials of agents, and the record of break-glass
sign-ins.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models import Agent, Site, SiteOwned


class AgentCredential(SiteOwned):
    """A password and a TOTP secret for one agent: password sign-in where
    SSO is off or optional, break-glass sign-in where it is required and the
    operator designated this agent.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="credential")
    # Django's hashers (PBKDF2 by default); never the raw password.
    password_hash = models.CharField(max_length=200, editable=False)
    # Fernet ciphertext of the base32 TOTP secret; see sso_site.secret_store.
    totp_secret_encrypted = models.TextField(editable=False)
    break_glass = models.BooleanField(
        "designated for break-glass",
        default=False,
        help_text="May sign in with password + TOTP even when SSO is required.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "agent password credential"
        constraints: ClassVar = [
            models.UniqueConstraint("site", "agent", name="agent_credential_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"Password credential of {self.agent}"

    def clean(self) -> None:
        if self.agent_id is not None and self.site_id != self.agent.site_id:
            raise ValidationError({"agent": "This agent belongs to another site."})


class BreakGlassUse(SiteOwned):
    """One break-glass sign-in: kept for the operators to review."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    reviewed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Break-glass sign-in by {self.agent}"
