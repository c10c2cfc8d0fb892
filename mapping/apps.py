from __future__ import annotations

from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = "Field mapping"

    def ready(self) -> None:
        from mapping import signals  # noqa: F401
