from __future__ import annotations

from django.apps import AppConfig
from typing_extensions import override


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = "IdP lifecycle"

    @override
    def ready(self) -> None:
        from lifecycle import signals
        from lifecycle.sp_renewal import sp_next_certificate_add
        from sso.saml.config import SP_CONFIG_HOOKS

        signals.connect()
        if sp_next_certificate_add not in SP_CONFIG_HOOKS:
            SP_CONFIG_HOOKS.append(sp_next_certificate_add)
