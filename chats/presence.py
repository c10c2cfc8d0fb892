"""Who is typing in a chat: short-lived flags in the shared cache.

Typing is not worth a database row: a flag per chat and side lives in Redis
for ``TYPING_TTL`` seconds, renewed by the typing side's pings (the window and
the console ping at most every ``TYPING_PING_S`` seconds while a key is
pressed) and cleared when that side's message is posted. An agent's ping also
makes the window's next poll a full one (``chats.live``), so the window learns
of it within one poll (or at once by push); a visitor's ping is pushed to the
agent console's stream only (``chats.live.console_channel``). The window hides
the indicator by itself once no poll has confirmed it for ``TYPING_TTL``
seconds.
"""

from __future__ import annotations

from django.core.cache import cache

from chats.live import chat_console_notify, chat_version_bump
from chats.models import Chat, Message
from tenants.models import Site

TYPING_TTL = 6
TYPING_PING_S = 2.5
SIDES = (Message.Sender.VISITOR, Message.Sender.AGENT)


def _typing_key(chat_pk: int, side: str) -> str:
    return f"chats:typing:{chat_pk}:{side}"


def chat_typing_set(*, site: Site, chat: Chat, side: str) -> None:
    """Record that ``side`` (visitor or agent) is typing in ``site``'s ``chat``."""
    if side not in SIDES or chat.site_id != site.pk:
        raise ValueError(side)
    cache.set(_typing_key(chat.pk, side), 1, timeout=TYPING_TTL)
    if side == Message.Sender.AGENT:
        # The window shows it: its next poll must not be "nothing new".
        chat_version_bump(site_id=site.site_id, campaign_pk=chat.campaign_id, chat_pk=chat.pk)
    else:
        # Only the console shows it: pushed to the console's stream alone,
        # the windows' "nothing new" polls stay nothing new.
        chat_console_notify(site_id=site.site_id, chat_pk=chat.pk)


def chat_typing_clear(*, chat_pk: int, side: str) -> None:
    """``side`` sent its message: it is no longer typing."""
    cache.delete(_typing_key(chat_pk, side))


def chat_typing(*, chat: Chat, side: str) -> bool:
    """Return whether ``side`` typed in ``chat`` within ``TYPING_TTL`` seconds."""
    return cache.get(_typing_key(chat.pk, side)) is not None
