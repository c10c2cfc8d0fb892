"""Chat campaigns and their visitor sign-in mode."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from tenants.models import Site, SiteOwned


class Campaign(SiteOwned):
    """A chat entry point on the customer's website."""

    class SignInMode(models.TextChoices):
        NONE = "none", "No sign-in"
        OPTIONAL = "optional", "Sign-in optional"
        REQUIRED = "required", "Sign-in required"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    signin_mode = models.CharField(
        "sign-in mode", max_length=10, choices=SignInMode.choices, default=SignInMode.NONE
    )
    prechat_survey = models.BooleanField(
        "pre-chat survey", default=False, help_text="Ask guests a few questions before the chat."
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["site", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint("site", "name", name="campaign_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name
