from __future__ import annotations

from django.apps import AppConfig


class PasswordConfig(AppConfig):
    name = "sso.password"
    label = "sso_password"
    verbose_name = "Agent password and break-glass sign-in"
