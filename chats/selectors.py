"""Read-only queries of chats; each takes the site it reads from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Max, Q, QuerySet, Sum, Value, When

from campaigns.models import Campaign, Visitor
from campaigns.routing import Rule
from chats.models import Chat, Message, RoutingRule, SignInRequest
from chats.tokens import WINDOW_REVOKED
from mapping.selectors import visitor_panel as mapping_visitor_panel
from tenants.models import Agent, Site, UsedToken


def chat_get(*, site: Site, pk: int | None) -> Chat | None:
    """Return ``site``'s chat ``pk`` with its visitor and campaign, or None."""
    if pk is None:
        return None
    chat: Chat | None = (
        Chat.objects.for_site(site)
        .select_related("visitor", "campaign", "agent")
        .filter(pk=pk)
        .first()
    )
    return chat


def chat_window_revoked(*, site: Site, window_id: str) -> bool:
    """Return whether the window ``window_id`` of ``site`` was signed out."""
    return UsedToken.objects.for_site(site).filter(kind=WINDOW_REVOKED, value=window_id).exists()


def _chats_actionable(*, site: Site, agent: Agent | None) -> QuerySet[Chat]:
    """``site``'s chats an agent can act on: waiting ones, and active ones
    (only ``agent``'s own when given)."""
    chats = Chat.objects.for_site(site)
    if agent is None:
        return chats.exclude(status=Chat.Status.CLOSED)
    return chats.filter(Q(status=Chat.Status.WAITING) | Q(status=Chat.Status.ACTIVE, agent=agent))


def chats_open(
    *,
    site: Site,
    group: str = "",
    agent: Agent | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Chat]:
    """Return one page of ``site``'s waiting and active chats, those of
    ``group`` first, oldest first; at most ``SSO_CONSOLE_PAGE_SIZE``."""
    chats = _chats_actionable(site=site, agent=agent)
    if group:
        chats = chats.annotate(
            other_group=Case(When(group__iexact=group, then=Value(0)), default=Value(1))
        ).order_by("other_group", "created_at", "pk")
    else:
        chats = chats.order_by("created_at", "pk")
    size = min(limit or settings.SSO_CONSOLE_PAGE_SIZE, settings.SSO_CONSOLE_PAGE_SIZE)
    start = max(offset, 0)
    return list(chats.select_related("visitor", "campaign", "agent")[start : start + size])


def chats_open_version(*, site: Site, agent: Agent | None = None) -> tuple[int, str]:
    """Return how many chats ``chats_open`` pages through and a fingerprint
    that changes when one arrives, leaves, is taken or gets a visitor: one
    aggregate query, so a poll with nothing new costs little."""
    row = _chats_actionable(site=site, agent=agent).aggregate(
        count=Count("pk"),
        newest=Max("pk"),
        active=Sum("pk", filter=Q(status=Chat.Status.ACTIVE)),
        visitors=Sum("visitor_id"),
    )
    count = int(row["count"] or 0)
    version = "-".join(str(row[k] or 0) for k in ("count", "newest", "active", "visitors"))
    return count, version


def visitor_earlier_chats(*, site: Site, chat: Chat, limit: int = 10) -> list[Chat]:
    """Return the earlier chats of ``chat``'s signed-in visitor on ``site``,
    newest first (none for a guest: a guest has no identity to match on).

    A visitor is one identity per site (their external ID), whatever the
    device or session, so a returning visitor's history follows them.
    """
    if chat.visitor_id is None:
        return []
    return list(
        Chat.objects.for_site(site)
        .filter(visitor_id=chat.visitor_id, created_at__lte=chat.created_at)
        .exclude(pk=chat.pk)
        .select_related("campaign")
        .order_by("-created_at")[:limit]
    )


def messages_after(
    *, site: Site, chat: Chat, after: int = 0, for_visitor: bool = False
) -> list[Message]:
    """Return ``chat``'s messages with a pk above ``after`` (no notes for the visitor)."""
    messages = Message.objects.for_site(site).filter(chat=chat, pk__gt=after)
    if for_visitor:
        messages = messages.exclude(sender=Message.Sender.NOTE)
    return list(messages.order_by("pk")[:200])


def signin_request_pending(*, site: Site, chat: Chat) -> bool:
    """Return whether an agent asked this chat's guest to sign in, not yet done."""
    return (
        SignInRequest.objects.for_site(site).filter(chat=chat, fulfilled_at__isnull=True).exists()
    )


def routing_rules(*, site: Site, campaign: Campaign) -> list[Rule]:
    """Return ``campaign``'s routing rules in order."""
    rules = RoutingRule.objects.for_site(site).filter(campaign=campaign).order_by("order", "pk")
    return [r.rule() for r in rules]


def routing_fields(*, visitor: Visitor | None, survey: dict[str, Any]) -> dict[str, Any]:
    """Return the fields routing rules test: survey answers, then the visitor's own."""
    fields: dict[str, Any] = dict(survey)
    if visitor is not None:
        fields.update(visitor.custom)
        fields.update(
            {
                "name": visitor.name,
                "email": visitor.email,
                "phone": visitor.phone,
                "external_id": visitor.external_id,
            }
        )
    return fields


@dataclass(frozen=True, slots=True)
class PanelRow:
    label: str
    value: str


def visitor_panel(*, site: Site, chat: Chat) -> list[PanelRow]:
    """Return what the agent sees of ``chat``'s visitor (nothing for a guest).

    The mapping app's panel: built-in fields, then the custom variables
    shown to agents, in their order, with their labels; values as text.
    """
    visitor = chat.visitor
    if visitor is None or visitor.site_id != site.pk:
        return []
    visitor.site = site
    return [
        PanelRow(field.label, _text(field.value))
        for field in mapping_visitor_panel(visitor=visitor)
    ]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
