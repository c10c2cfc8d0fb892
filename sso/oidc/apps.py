from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override

CRUD = ("view", "add", "change", "delete")


class OidcConfig(AppConfig):
    name = "sso.oidc"
    label = "sso_oidc"
    verbose_name = "OpenID Connect sign-in"

    @override
    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators configure their own sites' OpenID Connect sign-in.
        OPERATOR_PERMISSIONS[self.label] = [f"{action}_oidcsettings" for action in CRUD]
        post_migrate.connect(operator_group_update, sender=self)


def operator_group_update(**kwargs: Any) -> None:
    from tenants.services import operator_group_ensure

    operator_group_ensure()
