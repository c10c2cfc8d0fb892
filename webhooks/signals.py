"""Agent provisioning events, from the tenants app's model signals.

``post_save`` runs inside the saving transaction, so the event is written
with the change (the outbox rule) without tenants importing this app.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save

from tenants.models import Agent
from webhooks.models import EventKind
from webhooks.services import event_emit


def _agent_payload(agent: Agent) -> dict[str, Any]:
    return {"agent_id": agent.pk, "email": agent.email, "role": agent.role}


def _agent_pre_save(sender: Any, instance: Agent, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if fields is not None and "is_active" not in fields:
        # A sign-in saves last_sign_in_at only: no extra query on that path.
        instance._was_active = instance.is_active  # type: ignore[attr-defined]
        return
    if instance.pk is None:
        instance._was_active = None
        return
    instance._was_active = (  # type: ignore[attr-defined]
        Agent.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


def _agent_saved(sender: Any, instance: Agent, created: bool, **kwargs: Any) -> None:
    was_active = getattr(instance, "_was_active", None)
    if created or (was_active is False and instance.is_active):
        kind = EventKind.AGENT_PROVISIONED
    elif was_active and not instance.is_active:
        kind = EventKind.AGENT_DEPROVISIONED
    else:
        return
    event_emit(site=instance.site, kind=kind, payload=_agent_payload(instance))


def connect() -> None:
    pre_save.connect(_agent_pre_save, sender=Agent, dispatch_uid="webhooks-agent-pre")
    post_save.connect(_agent_saved, sender=Agent, dispatch_uid="webhooks-agent-saved")
