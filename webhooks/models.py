"""Webhook endpoints, the event outbox, deliveries and their attempts.

An event row is written in the same database transaction as the change
that causes it (a transactional outbox); a delivery row per subscribed
endpoint goes with it. Celery delivers after commit; a periodic sweep
re-enqueues any delivery whose task was lost (broker or worker down).
"""

from __future__ import annotations

import uuid
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from typing_extensions import override

from tenants.models import Site, SiteOwned
from tenants.site_record import site_record_feeds


class EventKind(models.TextChoices):
    AGENT_SIGNED_IN = "agent.signed_in", "Agent signed in"
    VISITOR_SIGNED_IN = "visitor.signed_in", "Visitor signed in"
    SIGN_IN_REFUSED = "sign_in.refused", "Sign-in refused"
    SIGN_IN_REQUEST_SENT = "sign_in_request.sent", "Sign-in request sent"
    AGENT_PROVISIONED = "agent.provisioned", "Agent provisioned"
    AGENT_DEPROVISIONED = "agent.deprovisioned", "Agent deprovisioned"
    CERTIFICATE_EXPIRING = "certificate.expiring", "Certificate expiring"
    SETTINGS_CHANGED = "settings.changed", "Settings changed"
    BREAK_GLASS_USED = "agent.break_glass_used", "Break-glass sign-in used"


class WebhookEndpoint(SiteOwned):
    """A URL of the site's own systems that receives signed events."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=500)
    events = models.JSONField(
        default=list, blank=True, help_text="Event kinds to send; empty: all of them."
    )
    is_active = models.BooleanField("active", default=True)
    # Fernet ciphertext (webhooks.secrets); the raw value is shown once.
    secret_encrypted = models.TextField(editable=False, blank=True)
    secret_fingerprint = models.CharField(max_length=12, editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["site", "url"]

    def __str__(self) -> str:
        return self.url

    @override
    def clean(self) -> None:
        # Deliveries go through the outbound guard, which allows https only
        # (http for tests and demos): refuse here what it would refuse later.
        allow_http = getattr(settings, "SSO_WEBHOOK_ALLOW_PRIVATE", False)
        if urlsplit(self.url).scheme != "https" and not allow_http:
            raise ValidationError({"url": "The endpoint URL must use https."})
        unknown = set(self.events or ()) - set(EventKind.values)
        if not isinstance(self.events, list) or unknown:
            raise ValidationError({"events": "List event kinds such as agent.signed_in."})


class WebhookEvent(SiteOwned):
    """One event in the outbox; its ``event_id`` is what receivers deduplicate on."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class WebhookDelivery(SiteOwned):
    """The delivery of one event to one endpoint, retried until done or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints: ClassVar = [
            models.UniqueConstraint("event", "endpoint", name="webhook_delivery_once")
        ]
        indexes: ClassVar = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event.kind} -> {self.endpoint.url} ({self.status})"


class WebhookAttempt(SiteOwned):
    """One HTTP attempt of a delivery, kept for the admin."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"


# Read through the site's record (webhooks.selectors.endpoints_for).
site_record_feeds(WebhookEndpoint)
