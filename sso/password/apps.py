from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override


class PasswordConfig(AppConfig):
    name = "sso.password"
    label = "sso_password"
    verbose_name = "Agent password and break-glass sign-in"

    @override
    def ready(self) -> None:
        from sso.oidc.apps import CRUD, operator_group_update
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators designate their own sites' break-glass agents and review
        # each use.
        OPERATOR_PERMISSIONS[self.label] = [
            *(f"{action}_agentcredential" for action in CRUD),
            "view_breakglassuse",
            "change_breakglassuse",
        ]
        post_migrate.connect(operator_group_update, sender=self)
