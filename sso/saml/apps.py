from __future__ import annotations

from django.apps import AppConfig


class SamlConfig(AppConfig):
    name = "sso.saml"
    label = "sso_saml"
    verbose_name = "SAML single sign-on"

    def ready(self) -> None:
        from sso.saml import crypto

        crypto.install()
