from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override


class JwtConfig(AppConfig):
    name = "sso.jwt"
    label = "sso_jwt"
    verbose_name = "JWT sign-in"

    @override
    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators configure their own sites' JWT sign-in.
        OPERATOR_PERMISSIONS[self.label] = [
            f"{action}_jwtsettings" for action in ("view", "add", "change", "delete")
        ]
        post_migrate.connect(_operator_group_update, sender=self)


def _operator_group_update(**kwargs: Any) -> None:
    # Existing operators get this app's permissions once its tables exist,
    # not only at their next grant.
    from tenants.services import operator_group_ensure

    operator_group_ensure()
