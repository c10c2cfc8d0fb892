from __future__ import annotations

from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "sso.oidc"
    label = "sso_oidc"
    verbose_name = "OpenID Connect sign-in"
