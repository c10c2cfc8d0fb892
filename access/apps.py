from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override


class AccessConfig(AppConfig):
    name = "access"
    label = "access"
    verbose_name = "Agent access policy"

    @override
    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS, operator_group_ensure

        OPERATOR_PERMISSIONS[self.label] = [
            f"{action}_accesspolicy" for action in ("view", "add", "change", "delete")
        ]
        post_migrate.connect(lambda **kwargs: operator_group_ensure(), sender=self, weak=False)
