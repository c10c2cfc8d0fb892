from __future__ import annotations

from django.apps import AppConfig


class TroubleshootConfig(AppConfig):
    name = "troubleshoot"
    verbose_name = "SSO troubleshooting"
