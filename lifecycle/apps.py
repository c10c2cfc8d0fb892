from __future__ import annotations

from django.apps import AppConfig
from typing_extensions import override


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = "IdP lifecycle"

    @override
    def ready(self) -> None:
        from lifecycle import signals

        signals.connect()
