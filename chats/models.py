"""Chats between visitors and agents, their messages, sign-in requests and
the routing rules that choose the agents' group.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from campaigns.models import Campaign, Visitor
from campaigns.routing import Operator, Rule
from tenants.models import Agent, Site, SiteOwned


class Chat(SiteOwned):
    """One conversation started from a campaign's chat window."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="chats")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chats")
    visitor = models.ForeignKey(
        Visitor, on_delete=models.SET_NULL, null=True, blank=True, related_name="chats"
    )
    guest_label = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    group = models.CharField("agents' group", max_length=100, blank=True)
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="chats"
    )
    survey_answers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # "Seen": the highest message pk each side has read (the window and the
    # console report it while they are shown; it only moves forward).
    visitor_read_id = models.PositiveBigIntegerField(default=0)
    agent_read_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["site", "-created_at"]
        indexes: ClassVar = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return f"Chat {self.pk} ({self.display_name})"

    @property
    def display_name(self) -> str:
        if self.visitor is not None:
            return str(self.visitor)
        return self.guest_label or "Guest"


class Message(SiteOwned):
    """A line of a chat, from the visitor, an agent or the system; notes are
    for agents only (the visitor's window never receives them)."""

    class Sender(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"
        NOTE = "note", "Note for agents"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True)
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["chat", "pk"]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:40]}"


class SignInRequest(SiteOwned):
    """An agent asked the guest of ``chat`` to sign in."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="signin_requests")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["chat", "-created_at"]

    def __str__(self) -> str:
        return f"Sign-in request for chat {self.chat_id}"


class RoutingRule(SiteOwned):
    """``field`` ``operator`` ``value`` -> ``group``, tried in ``order``."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="routing_rules")
    order = models.PositiveSmallIntegerField(default=0)
    field = models.CharField(
        max_length=100, help_text="A mapped visitor field: name, email, or a variable's key."
    )
    operator = models.CharField(
        max_length=10, choices=[(o.value, o.value) for o in Operator], default=Operator.EQUALS
    )
    value = models.CharField(max_length=255, blank=True, help_text="For 'in': a comma list.")
    group = models.CharField("agents' group", max_length=100)

    class Meta:
        ordering: ClassVar = ["campaign", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value} -> {self.group}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A rule belongs to its campaign's site, whatever a form sent.
        self.site_id = self.campaign.site_id
        super().save(*args, **kwargs)

    def rule(self) -> Rule:
        return Rule(self.field, Operator(self.operator), self.value, self.group)
