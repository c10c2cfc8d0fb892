from __future__ import annotations

from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = "Chats"

    def ready(self) -> None:
        from tenants.services import OPERATOR_PERMISSIONS

        # Operators edit their campaigns' routing rules and read their chats.
        OPERATOR_PERMISSIONS[self.label] = [
            "view_routingrule",
            "add_routingrule",
            "change_routingrule",
            "delete_routingrule",
            "view_chat",
        ]
