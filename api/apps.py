from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Integration API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators manage their own sites' tokens and read the change log.
        OPERATOR_PERMISSIONS.setdefault(
            "api", ["view_apitoken", "add_apitoken", "change_apitoken", "view_apichange"]
        )
