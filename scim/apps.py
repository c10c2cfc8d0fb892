from __future__ import annotations

from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "Provisioning (SCIM)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators map their own sites' groups and see the SCIM groups.
        OPERATOR_PERMISSIONS.setdefault(
            "scim",
            [
                "view_grouprole",
                "add_grouprole",
                "change_grouprole",
                "delete_grouprole",
                "view_scimgroup",
            ],
        )
