"""Writes of chats: start, messages, sign-in requests, sign-in mid-chat, routing.

Every function takes the site it writes to; the chat window's credential
(a signed token, see ``chats.tokens``) and the sign-in handoff are minted
and redeemed here too, so views and protocol code never touch sessions.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.models import Campaign, Visitor
from campaigns.routing import route
from campaigns.selectors import visitor_get_by_pk
from chats.live import chat_console_notify, chat_list_notify, chat_version_bump
from chats.models import Chat, Message, SignInRequest
from chats.presence import chat_typing_clear
from chats.selectors import routing_fields, routing_rules
from chats.tokens import (
    TOKEN_MAX_AGE,
    WINDOW_REVOKED,
    ChatCredential,
    handoff_code_mint,
    handoff_code_redeem,
)
from sso_site.signin.refusals import RefusalReason
from tenants.inputs import text_clean
from tenants.models import Agent, Site
from tenants.services import token_consume

logger = logging.getLogger(__name__)

SURVEY_ANSWER_MAX = 500


class ChatRefusedError(Exception):
    """The window asked for something its campaign or credential does not allow.

    Its reason is a code of the one refusal vocabulary, ``RefusalReason``,
    which also gives the HTTP status.
    """

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason.value)
        self.reason = reason

    @property
    def code(self) -> str:
        return self.reason.value

    @property
    def status(self) -> int:
        return self.reason.status


def survey_clean(*, campaign: Campaign, answers: Any) -> dict[str, str]:
    """Return the answers to ``campaign``'s questions, trimmed; ignore the rest."""
    if not isinstance(answers, dict):
        return {}
    return {
        key: text_clean(str(answers.get(key, "")))[:SURVEY_ANSWER_MAX].strip()
        for key, _ in campaign.survey_questions
        if str(answers.get(key, "")).strip()
    }


@transaction.atomic
def chat_start(
    *, site: Site, campaign: Campaign, visitor: Visitor | None, survey: Any = None
) -> Chat:
    """Start a chat in ``campaign``, following its sign-in mode.

    Required mode refuses a chat without a signed-in visitor; the survey is
    kept for guests only (signed-in visitors skip it).
    """
    if campaign.signin_mode == Campaign.SignInMode.REQUIRED and visitor is None:
        raise ChatRefusedError(RefusalReason.SIGNIN_REQUIRED)
    answers = {} if visitor is not None else survey_clean(campaign=campaign, answers=survey)
    group = route(
        routing_rules(site=site, campaign=campaign),
        routing_fields(visitor=visitor, survey=answers),
        default=campaign.default_group,
    )
    chat = Chat.objects.create(
        site=site, campaign=campaign, visitor=visitor, survey_answers=answers, group=group
    )
    if visitor is None:
        chat.guest_label = f"Guest {chat.pk}"
        chat.save(update_fields=["guest_label"])
    logger.info("chat started site=%s chat=%s group=%s", site.site_id, chat.pk, group)
    chat_list_notify(site_id=site.site_id)
    return chat


def message_post(
    *, site: Site, chat: Chat, sender: str, text: str, agent: Agent | None = None
) -> Message | None:
    """Add a message to ``chat``; None when it is closed or ``text`` is blank."""
    text = text_clean(text).strip()[:4000]
    if not text or chat.status == Chat.Status.CLOSED:
        return None
    message = Message.objects.create(site=site, chat=chat, sender=sender, text=text, agent=agent)
    chat_typing_clear(chat_pk=chat.pk, side=sender)
    # The window's next poll reads the database again (``chats.live``).
    chat_version_bump(site_id=site.site_id, campaign_pk=chat.campaign_id, chat_pk=chat.pk)
    return message


READ_FIELDS = {Message.Sender.VISITOR: "visitor_read_id", Message.Sender.AGENT: "agent_read_id"}


def chat_read_mark(*, site: Site, chat: Chat, side: str, message_id: int) -> bool:
    """Record that ``side`` has read ``chat`` up to ``message_id``; return
    whether its mark moved. The mark only moves forward, and only to a
    message of this chat (one conditional UPDATE).
    """
    field = READ_FIELDS[Message.Sender(side)]
    of_chat = Message.objects.filter(site=site, chat_id=OuterRef("pk"), pk=message_id)
    moved = (
        Chat.objects.for_site(site)
        .filter(Exists(of_chat), pk=chat.pk, **{f"{field}__lt": message_id})
        .update(**{field: message_id})
    )
    if moved:
        setattr(chat, field, message_id)
        if side == Message.Sender.AGENT:
            # The window shows "Seen" under the visitor's message.
            chat_version_bump(site_id=site.site_id, campaign_pk=chat.campaign_id, chat_pk=chat.pk)
        else:
            # The console shows "Seen" under the agent's answer.
            chat_console_notify(site_id=site.site_id, chat_pk=chat.pk)
    return bool(moved)


@transaction.atomic
def chat_accept(*, site: Site, chat: Chat, agent: Agent) -> Chat:
    """Make ``agent`` (of ``site``) the chat's agent; it becomes active."""
    if chat.site_id != site.pk or agent.site_id != site.pk:
        raise ChatRefusedError(RefusalReason.WRONG_SITE)
    if chat.agent_id is None:
        chat.agent = agent
        chat.status = Chat.Status.ACTIVE
        chat.save(update_fields=["agent", "status"])
        message_post(site=site, chat=chat, sender=Message.Sender.SYSTEM, text=f"{agent} joined.")
        chat_list_notify(site_id=site.site_id)
    return chat


@transaction.atomic
def chat_close(*, site: Site, chat: Chat, agent: Agent) -> Chat:
    """End ``chat``; the visitor's window says so and may start a new one."""
    if chat.site_id != site.pk or agent.site_id != site.pk:
        raise ChatRefusedError(RefusalReason.WRONG_SITE)
    if chat.status != Chat.Status.CLOSED:
        message_post(site=site, chat=chat, sender=Message.Sender.SYSTEM, text="The chat has ended.")
        chat.status = Chat.Status.CLOSED
        chat.agent = chat.agent or agent
        chat.save(update_fields=["status", "agent"])
        chat_list_notify(site_id=site.site_id)
    return chat


def signin_request_create(*, site: Site, chat: Chat, agent: Agent) -> SignInRequest:
    """Ask the guest of ``chat`` to sign in; refused once the visitor is
    known, or once the chat has ended (nobody would see the request).
    """
    if chat.site_id != site.pk or chat.visitor_id is not None:
        raise ChatRefusedError(RefusalReason.NOT_A_GUEST)
    if chat.status == Chat.Status.CLOSED:
        raise ChatRefusedError(RefusalReason.CHAT_CLOSED)
    request = SignInRequest.objects.create(site=site, chat=chat, agent=agent)
    message_post(
        site=site, chat=chat, sender=Message.Sender.SYSTEM, text="The agent asked you to sign in."
    )
    return request


@transaction.atomic
def chat_attach_visitor(*, site: Site, chat: Chat, visitor: Visitor) -> Chat:
    """The guest of ``chat`` signed in as ``visitor``: the same chat goes on.

    Pending sign-in requests are fulfilled, routing runs again on the new
    fields and the chat moves group if the result changed; the agent is told
    by a system message.
    """
    if chat.site_id != site.pk or visitor.site_id != site.pk:
        raise ChatRefusedError(RefusalReason.WRONG_SITE)
    if chat.visitor_id not in (None, visitor.pk):
        raise ChatRefusedError(RefusalReason.ANOTHER_VISITOR)
    chat.visitor = visitor
    new_group = route(
        routing_rules(site=site, campaign=chat.campaign),
        routing_fields(visitor=visitor, survey=chat.survey_answers),
        default=chat.campaign.default_group,
    )
    old_group = chat.group
    chat.group = new_group
    chat.save(update_fields=["visitor", "group"])
    chat_list_notify(site_id=site.site_id)
    SignInRequest.objects.for_site(site).filter(chat=chat, fulfilled_at__isnull=True).update(
        fulfilled_at=timezone.now()
    )
    text = f"The visitor signed in as {visitor}."
    message_post(site=site, chat=chat, sender=Message.Sender.SYSTEM, text=text)
    if new_group != old_group:
        # Routing is the agents' business: a note the visitor does not see.
        note = f"Routing moved the chat from group {old_group} to {new_group}."
        message_post(site=site, chat=chat, sender=Message.Sender.NOTE, text=note)
    return chat


def visitor_handoff_mint(*, site: Site, campaign: Campaign, visitor: Visitor) -> str:
    """Return a single-use code that hands a popup's sign-in to ``campaign``'s window."""
    if campaign.site_id != site.pk or visitor.site_id != site.pk:
        raise ChatRefusedError(RefusalReason.WRONG_SITE)
    return handoff_code_mint(site_pk=site.pk, campaign_pk=campaign.pk, visitor_pk=visitor.pk)


def visitor_handoff_redeem(
    *, site: Site, campaign: Campaign, credential: ChatCredential, code: str
) -> tuple[ChatCredential, Visitor]:
    """Redeem ``code`` for the window holding ``credential``; return its new credential.

    The window's chat (if any) goes on, now attached to the visitor.
    """
    visitor_pk = handoff_code_redeem(code, site_pk=site.pk, campaign_pk=campaign.pk)
    visitor = visitor_get_by_pk(site=site, pk=visitor_pk) if visitor_pk else None
    if visitor is None:
        raise ChatRefusedError(RefusalReason.HANDOFF_INVALID)
    if credential.chat_pk is not None:
        chat = Chat.objects.for_site(site).filter(pk=credential.chat_pk).first()
        if chat is not None:
            chat_attach_visitor(site=site, chat=chat, visitor=visitor)
    new = ChatCredential(
        site_pk=site.pk,
        campaign_pk=campaign.pk,
        chat_pk=credential.chat_pk,
        visitor_pk=visitor.pk,
        window_id=credential.window_id,
    )
    return new, visitor


@transaction.atomic
def chat_window_sign_out(
    *, site: Site, campaign: Campaign, credential: ChatCredential
) -> ChatCredential:
    """The host page signed its user out: revoke every token of the window
    holding ``credential`` and end its chat; return a fresh guest credential.

    The revocation is a single-use row (``tenants.UsedToken``, kind
    ``WINDOW_REVOKED``) for the window ID all its tokens carry, kept as long
    as any of them could be valid, so a copy replayed later (a shared device,
    the host page's storage) is refused as ``token_revoked``.
    """
    if credential.site_pk != site.pk or campaign.site_id != site.pk:
        raise ChatRefusedError(RefusalReason.WRONG_SITE)
    expires = timezone.now() + timedelta(seconds=TOKEN_MAX_AGE + 60)
    token_consume(site=site, kind=WINDOW_REVOKED, value=credential.window_id, expires_at=expires)
    chat = (
        Chat.objects.for_site(site).select_for_update().filter(pk=credential.chat_pk).first()
        if credential.chat_pk
        else None
    )
    if chat is not None and chat.status != Chat.Status.CLOSED:
        text = "The visitor signed out; the chat has ended."
        message_post(site=site, chat=chat, sender=Message.Sender.SYSTEM, text=text)
        chat.status = Chat.Status.CLOSED
        chat.save(update_fields=["status"])
        chat_list_notify(site_id=site.site_id)
    if chat is not None:
        chat_version_bump(site_id=site.site_id, campaign_pk=chat.campaign_id, chat_pk=chat.pk)
    logger.info("chat window signed out site=%s chat=%s", site.site_id, credential.chat_pk)
    return ChatCredential(site_pk=site.pk, campaign_pk=campaign.pk, chat_pk=None, visitor_pk=None)
