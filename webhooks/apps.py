from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    @override
    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS
        from webhooks import signals, tasks

        signals.connect()
        tasks.register()
        # Operators manage their own sites' endpoints and see their deliveries.
        OPERATOR_PERMISSIONS[self.label] = [
            *(f"{action}_webhookendpoint" for action in ("view", "add", "change", "delete")),
            "view_webhookdelivery",
            "change_webhookdelivery",  # the re-send action
        ]
        post_migrate.connect(_operator_group_update, sender=self)


def _operator_group_update(**kwargs: Any) -> None:
    from tenants.services import operator_group_ensure

    operator_group_ensure()
