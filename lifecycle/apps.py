from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from typing_extensions import override


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = "IdP lifecycle"

    @override
    def ready(self) -> None:
        from lifecycle import signals
        from lifecycle.sp_renewal import sp_next_certificate_add
        from sso.saml.config import SP_CONFIG_HOOKS
        from tenants.services import OPERATOR_PERMISSIONS

        signals.connect()
        if sp_next_certificate_add not in SP_CONFIG_HOOKS:
            SP_CONFIG_HOOKS.append(sp_next_certificate_add)
        # Operators see and act on their own sites' lifecycle; job runs are
        # the platform's (superusers).
        OPERATOR_PERMISSIONS[self.label] = [
            "view_metadatarefresh",
            "change_metadatarefresh",
            "view_jwksrefresh",
            "change_jwksrefresh",
            "view_keyrotation",
            "change_keyrotation",
            "view_expirywarning",
            *(f"{action}_siteretention" for action in ("view", "add", "change")),
            *(f"{action}_spcertificaterenewal" for action in ("view", "add", "change", "delete")),
        ]
        post_migrate.connect(_operator_group_update, sender=self)


def _operator_group_update(**kwargs: Any) -> None:
    from tenants.services import operator_group_ensure

    operator_group_ensure()
