"""Per-site access policy for agents: which sign-in method starts, whether
SSO is required, and the networks agents may come from.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models import Site, SiteOwned
from tenants.network import parse_networks
from tenants.site_record import site_record_feeds


def validate_networks(value: str) -> None:
    """Raise ValidationError unless each line is an IP network (CIDR) or address."""
    try:
        parse_networks(value)
    except ValueError as exc:
        raise ValidationError(
            "Write one network per line, e.g. 203.0.113.0/24 or 2001:db8::/32.",
            code="invalid_network",
        ) from exc


class SsoMode(models.TextChoices):
    OFF = "off", "Off: agents sign in with a password"
    OPTIONAL = "optional", "Optional: SSO, or a password where an agent has one"
    REQUIRED = "required", "Required: SSO only; break-glass for designated agents"


class AccessPolicy(SiteOwned):
    """How one site's agents may reach the console."""

    class Method(models.TextChoices):
        AUTO = "", "First configured (SAML, JWT, OpenID Connect)"
        SAML = "saml", "SAML 2.0"
        JWT = "jwt", "JWT"
        OIDC = "oidc", "OpenID Connect"

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="access_policy")
    agent_method = models.CharField(
        "agent sign-in method",
        max_length=10,
        choices=Method.choices,
        blank=True,
        default=Method.AUTO,
        help_text="Which configured method starts agent sign-in.",
    )
    sso_mode = models.CharField(
        "SSO required for agents", max_length=10, choices=SsoMode.choices, default=SsoMode.OPTIONAL
    )
    agent_networks = models.TextField(
        "agent networks",
        blank=True,
        validators=[validate_networks],
        help_text=(
            "One network per line (CIDR). When set, agents sign in and use the console "
            "only from these networks. Empty: from anywhere."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "access policy"
        verbose_name_plural = "access policies"

    def __str__(self) -> str:
        return f"Access policy of {self.site}"


# Read through the site's record (access.selectors): saves give it a new version.
site_record_feeds(AccessPolicy)
