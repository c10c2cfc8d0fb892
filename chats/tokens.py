"""The visitor's chat credential and the sign-in handoff code.

The chat window keeps a signed chat token in memory (and sessionStorage) and
sends it as an ``Authorization`` header, never a cookie, so the window works
embedded cross-site in a browser that blocks third-party cookies. A handoff
code carries a sign-in done in a first-party popup back to the window: it is
random, single-use, short-lived, stored server-side in the shared cache and
bound to one site, campaign and visitor.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from django.core import signing
from django.core.cache import cache

TOKEN_SALT = "chats.chat-token.v1"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 12 * 3600
# ``tenants.UsedToken`` kind of a signed-out window's ID (every token it held).
WINDOW_REVOKED = "chat_window"
HANDOFF_TTL = 120


WINDOW_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")


class ChatTokenError(Exception):
    """The chat token is missing, forged, expired or for another window."""


def window_id_new() -> str:
    """Return a new window ID: 96 random bits, URL-safe."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class ChatCredential:
    """What a valid chat token proves: a window of one site's campaign.

    ``window_id`` is given to a window when it is served and carried by every
    token issued to it afterwards (chat started, visitor signed in), so one
    revocation (``SsoChat.signOut()``) refuses them all, older copies too.
    """

    site_pk: int
    campaign_pk: int
    chat_pk: int | None
    visitor_pk: int | None
    window_id: str = field(default_factory=window_id_new)


def chat_token_issue(credential: ChatCredential) -> str:
    """Return a signed token for ``credential``."""
    payload = {
        "s": credential.site_pk,
        "c": credential.campaign_pk,
        "ch": credential.chat_pk,
        "v": credential.visitor_pk,
        "w": credential.window_id,
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=False)


def chat_token_read(token: str, *, site_pk: int, campaign_pk: int) -> ChatCredential:
    """Return the credential of ``token`` if it is for this site's campaign, else raise."""
    if not token or len(token) > 1000:
        raise ChatTokenError("missing")
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ChatTokenError("bad signature") from None
    if not isinstance(payload, dict) or payload.get("s") != site_pk:
        raise ChatTokenError("wrong site")
    if payload.get("c") != campaign_pk:
        raise ChatTokenError("wrong campaign")
    chat_pk, visitor_pk, window_id = payload.get("ch"), payload.get("v"), payload.get("w")
    if not isinstance(window_id, str) or not WINDOW_ID.match(window_id):
        # Every token names its window: one without could not be revoked.
        raise ChatTokenError("no window id")
    return ChatCredential(
        site_pk=site_pk,
        campaign_pk=campaign_pk,
        chat_pk=chat_pk if isinstance(chat_pk, int) else None,
        visitor_pk=visitor_pk if isinstance(visitor_pk, int) else None,
        window_id=window_id,
    )


def chat_token_chat(token: str) -> int | None:
    """Return the chat pk of a genuine, unexpired ``token`` (no site check:
    for the poll's version lookup, keyed by the URL's site and campaign).
    """
    if not token or len(token) > 1000:
        return None
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    chat_pk = payload.get("ch") if isinstance(payload, dict) else None
    return chat_pk if isinstance(chat_pk, int) else None


def _handoff_key(code: str) -> str:
    return f"chats:handoff:{hashlib.sha256(code.encode()).hexdigest()}"


def handoff_code_mint(*, site_pk: int, campaign_pk: int, visitor_pk: int) -> str:
    """Return a new single-use code that hands ``visitor_pk`` to one window."""
    code = secrets.token_urlsafe(32)
    cache.set(_handoff_key(code), (site_pk, campaign_pk, visitor_pk), timeout=HANDOFF_TTL)
    return code


def handoff_code_redeem(code: str, *, site_pk: int, campaign_pk: int) -> int | None:
    """Return the visitor pk of ``code`` once, if bound to this site and campaign.

    A window of another site or campaign presenting the code does not spend
    it; the right window's first attempt does: ``delete`` succeeds for one
    caller only, so two windows racing cannot both redeem.
    """
    if not code or len(code) > 100 or not code.isascii():
        return None
    key = _handoff_key(code)
    bound = cache.get(key)
    if bound is None or bound[0] != site_pk or bound[1] != campaign_pk:
        return None
    if not cache.delete(key):
        return None
    return int(bound[2])


# The agent console's push stream ticket (``chats.stream``): issued by the
# console (``console.chat_views.chat_stream_ticket``) behind the agent's
# sign-in, for one chat of the agent's site; the stream server, which has no
# session, checks the ticket alone. It only opens a stream: good for
# ``CONSOLE_TICKET_MAX_AGE`` seconds, and the console asks a new one for each
# (re)connection.
CONSOLE_TICKET_SALT = "chats.console-stream-ticket.v1"
CONSOLE_TICKET_MAX_AGE = 60


@dataclass(frozen=True, slots=True)
class ConsoleTicket:
    """What a valid console ticket names: an agent, their site, one chat."""

    agent_pk: int
    site_pk: int
    chat_pk: int


def console_ticket_issue(*, agent_pk: int, site_pk: int, chat_pk: int) -> str:
    """Return a signed stream ticket for the agent's chat (the caller checked
    that the chat is the agent's site's)."""
    payload = {"a": agent_pk, "s": site_pk, "ch": chat_pk}
    return signing.dumps(payload, salt=CONSOLE_TICKET_SALT, compress=False)


def console_ticket_read(ticket: str) -> ConsoleTicket:
    """Return the ticket's names if its signature holds and it is fresh, else raise."""
    if not ticket or len(ticket) > 500:
        raise ChatTokenError("missing")
    try:
        payload = signing.loads(ticket, salt=CONSOLE_TICKET_SALT, max_age=CONSOLE_TICKET_MAX_AGE)
    except signing.BadSignature:  # forged, or expired (SignatureExpired)
        raise ChatTokenError("bad signature") from None
    if not isinstance(payload, dict):
        raise ChatTokenError("malformed")
    names = (payload.get("a"), payload.get("s"), payload.get("ch"))
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in names):
        raise ChatTokenError("malformed")
    agent_pk, site_pk, chat_pk = names
    return ConsoleTicket(agent_pk=agent_pk, site_pk=site_pk, chat_pk=chat_pk)  # type: ignore[arg-type]
