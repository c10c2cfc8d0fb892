from __future__ import annotations

from django.apps import AppConfig


class DevIdpConfig(AppConfig):
    name = "devidp"
    verbose_name = "Development identity provider"
