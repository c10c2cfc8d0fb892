"""Read-only queries of JWT settings; each takes the site it reads from."""

from __future__ import annotations

from typing import Any

from sso.jwt.models import JwtSettings
from tenants.models import Audience, Site
from tenants.site_record import site_part

_FIELDS = tuple(f.attname for f in JwtSettings._meta.concrete_fields)


def _enabled_values(site: Site, audience: Audience) -> tuple[Any, ...] | None:
    row = (
        JwtSettings.objects.for_site(site)
        .filter(audience=audience, enabled=True)
        .values_list(*_FIELDS)
        .first()
    )
    return tuple(row) if row is not None else None


def jwt_settings_get_enabled(*, site: Site, audience: Audience) -> JwtSettings | None:
    """Return ``site``'s enabled JWT settings for ``audience``, or None.

    From the site's record in this process while its version is current
    (every save of JWT settings gives the site a new one); a new instance
    each call.
    """
    values = site_part(site.pk, f"jwt:settings:{audience}", lambda: _enabled_values(site, audience))
    if values is None:
        return None
    config = JwtSettings.from_db("default", _FIELDS, values)
    config.site = site  # spare a query: callers use config.site
    return config
