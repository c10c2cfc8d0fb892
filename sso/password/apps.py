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
        from tenants.services import OPERATOR_PERMISSIONS, operator_group_ensure

        # Operators designate their own sites' break-glass agents and review
        # each use.
        OPERATOR_PERMISSIONS[self.label] = [
            *(f"{action}_agentcredential" for action in ("view", "add", "change", "delete")),
            "view_breakglassuse",
            "change_breakglassuse",
        ]
        post_migrate.connect(lambda **kwargs: operator_group_ensure(), sender=self, weak=False)
