"""Read-only queries of JWT settings; each takes the site it reads from."""

from __future__ import annotations

from sso.jwt.models import JwtSettings
from tenants.models import Audience, Site


def jwt_settings_get_enabled(*, site: Site, audience: Audience) -> JwtSettings | None:
    """Return ``site``'s enabled JWT settings for ``audience``, or None."""
    config: JwtSettings | None = (
        JwtSettings.objects.for_site(site).filter(audience=audience, enabled=True).first()
    )
    if config is not None:
        config.site = site  # spare a query: callers use config.site
    return config
