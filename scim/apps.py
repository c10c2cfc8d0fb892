from __future__ import annotations

from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "Provisioning (SCIM)"
    default_auto_field = "django.db.models.BigAutoField"
