from __future__ import annotations

from django.apps import AppConfig
from typing_extensions import override


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    @override
    def ready(self) -> None:
        from webhooks import signals, tasks

        signals.connect()
        tasks.register()
