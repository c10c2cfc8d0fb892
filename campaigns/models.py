"""Chat campaigns and their visitor sign-in mode."""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urlsplit

from django.core.validators import RegexValidator, URLValidator
from django.db import models

from tenants.models import Protocol, Site, SiteOwned


class Campaign(SiteOwned):
    """A chat entry point on the customer's website."""

    class SignInMode(models.TextChoices):
        NONE = "none", "No sign-in"
        OPTIONAL = "optional", "Sign-in optional"
        REQUIRED = "required", "Sign-in required"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200, help_text="Internal: seen by operators and agents.")
    display_name = models.CharField(
        "display name",
        max_length=200,
        blank=True,
        help_text='The chat window\'s title for visitors; empty: "Chat with <site name>".',
    )
    accent_color = models.CharField(
        "accent colour",
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "A colour as #rrggbb.")],
        help_text="The window's header and buttons, as #rrggbb; empty: the default blue.",
    )
    logo_url = models.URLField(
        "logo URL",
        blank=True,
        validators=[URLValidator(schemes=["https"])],
        help_text="An https image shown in the window's header (about 28 px high).",
    )
    signin_mode = models.CharField(
        "sign-in mode", max_length=10, choices=SignInMode.choices, default=SignInMode.NONE
    )
    prechat_survey = models.BooleanField(
        "pre-chat survey", default=False, help_text="Ask guests a few questions before the chat."
    )
    survey_fields = models.TextField(
        "survey questions",
        blank=True,
        default="",
        help_text="One question a line, as key|Label (e.g. topic|What is it about?).",
    )
    visitor_sso = models.CharField(
        "visitor SSO method",
        max_length=10,
        choices=[(Protocol.JWT.value, "JWT"), (Protocol.SAML.value, "SAML 2.0")],
        default=Protocol.JWT,
        help_text="How visitors sign in; set up under the site's visitor SSO settings.",
    )
    default_group = models.CharField(
        "default group",
        max_length=100,
        default="general",
        help_text="The agents' group of a chat no routing rule matches.",
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

    @property
    def accent(self) -> str:
        """The window's accent colour, only ever a valid #rrggbb."""
        color = self.accent_color
        return color if re.fullmatch(r"#[0-9a-fA-F]{6}", color or "") else "#2456d6"

    @property
    def logo_origin(self) -> str:
        """The https origin of the logo, or "" (no logo) unless it is plainly one."""
        parts = urlsplit(self.logo_url or "")
        if parts.scheme != "https" or not re.fullmatch(
            r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", parts.netloc
        ):
            return ""
        return f"https://{parts.netloc}"

    @property
    def accent_text(self) -> str:
        """Black or white, whichever reads better on the accent colour."""
        r, g, b = (int(self.accent[i : i + 2], 16) / 255 for i in (1, 3, 5))
        lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        luminance = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
        return "#000000" if luminance > 0.179 else "#ffffff"

    @property
    def title(self) -> str:
        """What visitors see: the display name, never the internal name."""
        return self.display_name or f"Chat with {self.site.name}"

    @property
    def survey_questions(self) -> list[tuple[str, str]]:
        """Return the survey's (key, label) pairs; empty when the survey is off."""
        if not self.prechat_survey:
            return []
        questions = []
        for line in self.survey_fields.splitlines():
            key, _, label = line.strip().partition("|")
            if key.strip():
                questions.append((key.strip(), label.strip() or key.strip()))
        return questions or [("question", "How can we help?")]


class Visitor(SiteOwned):
    """A visitor who signed in through Visitor SSO, keyed by their external ID.

    Built-in fields and custom variable values come from the site's field
    mapping and are refreshed at each sign-in.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    external_id = models.CharField("external ID", max_length=255)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    custom = models.JSONField(
        "custom variables", default=dict, blank=True, help_text="Variable key -> value."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_protocol = models.CharField(max_length=10, choices=Protocol.choices, blank=True)

    class Meta:
        ordering: ClassVar = ["site", "-last_sign_in_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site", "external_id", name="visitor_external_id_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id
