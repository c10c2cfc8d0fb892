from __future__ import annotations

from django.apps import AppConfig


class SamlConfig(AppConfig):
    name = "sso.saml"
    label = "sso_saml"
    verbose_name = "SAML single sign-on"

    def ready(self) -> None:
        from sso.saml import crypto
        from sso.saml.starter import saml_logout, saml_start
        from sso.starters import STARTERS
        from sso_site.signin.hooks import LOGOUT_HANDLERS

        crypto.install()
        if saml_start not in STARTERS:
            STARTERS.append(saml_start)
        if saml_logout not in LOGOUT_HANDLERS:
            LOGOUT_HANDLERS.append(saml_logout)
