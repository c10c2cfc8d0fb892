"""Webhook events for changes made in other apps, from their model signals.

``post_save`` runs inside the saving transaction, so each event is written
with its change (the outbox rule) while those apps import nothing of this
one: SAML/JWT settings changed, a sign-in request sent to a chat guest.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from chats.models import SignInRequest
from sso.jwt.models import JwtSettings
from sso.saml.models import SamlSettings
from webhooks.models import EventKind
from webhooks.services import event_emit


def _settings_saved(sender: Any, instance: SamlSettings | JwtSettings, **kwargs: Any) -> None:
    what = "saml" if isinstance(instance, SamlSettings) else "jwt"
    fields = kwargs.get("update_fields")
    event_emit(
        site=instance.site,
        kind=EventKind.SETTINGS_CHANGED,
        payload={
            "settings": what,
            "audience": str(instance.audience),
            "created": bool(kwargs.get("created")),
            # Names only, never values: secrets and keys stay here.
            "fields": sorted(fields) if fields else [],
        },
    )


def _sign_in_request_saved(
    sender: Any, instance: SignInRequest, created: bool, **kwargs: Any
) -> None:
    if created:
        event_emit(
            site=instance.site,
            kind=EventKind.SIGN_IN_REQUEST_SENT,
            payload={"chat_id": instance.chat_id, "agent_id": instance.agent_id},
        )


def connect() -> None:
    for model in (SamlSettings, JwtSettings):
        post_save.connect(_settings_saved, sender=model, dispatch_uid=f"lifecycle-{model.__name__}")
    post_save.connect(_sign_in_request_saved, sender=SignInRequest, dispatch_uid="lifecycle-sir")
