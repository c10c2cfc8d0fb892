"""Writes of tenant data: the audit log and single-use identifiers."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tenants.models import Agent, Audience, LoginEvent, Protocol, Site, SiteOperator, UsedToken

if TYPE_CHECKING:
    from django.http import HttpRequest

USER_AGENT_MAX = 300


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's IP address as the server saw it.

    Behind a proxy, ``sso_site.client_address`` has already put the client's
    address into REMOTE_ADDR (from ``SSO_CLIENT_IP_HEADER``, or from
    X-Forwarded-For of a peer in ``SSO_TRUSTED_PROXIES``); a header a client
    sets itself is never read here.
    """
    return request.META.get("REMOTE_ADDR") or None


def _printable(value: Any) -> Any:
    """Return ``value`` with control characters removed from every string in it.

    Audit fields come from untrusted input (user agents, token claims);
    PostgreSQL refuses NUL in text and JSON, and the log is read by people.
    """
    if isinstance(value, str):
        return "".join(c for c in value if c.isprintable())
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


def audit_record(
    request: HttpRequest,
    *,
    site: Site | None,
    audience: Audience | str,
    protocol: Protocol | str | None,
    outcome: LoginEvent.Outcome,
    reason: str = "",
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> LoginEvent:
    """Record one sign-in, refusal or sign-out in the audit log."""
    return LoginEvent.objects.create(
        site=site,
        audience=audience,
        protocol=protocol or "",
        outcome=outcome,
        reason=reason,
        subject=_printable(subject)[:254],
        client_ip=client_ip(request),
        user_agent=_printable(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX],
        detail=_printable(detail or {}),
    )


def agent_create(
    *,
    site: Site,
    email: str,
    name: str = "",
    role: str = Agent.Role.AGENT,
    source: str = Agent.Source.MANUAL,
) -> Agent:
    """Create an agent of ``site`` (validated: the email must be new to the site)."""
    agent = Agent(site=site, email=email.strip(), name=name, role=role, source=source)
    agent.full_clean()
    agent.save()
    return agent


_AGENT_COLUMNS = tuple(f.column for f in Agent._meta.concrete_fields)
_AGENT_NAMES = tuple(f.attname for f in Agent._meta.concrete_fields)


@cache
def _agent_touch_sql() -> str:
    # Identifiers from the model's own metadata, values as parameters.
    quote = connection.ops.quote_name
    meta = Agent._meta
    column = {f.name: f.column for f in meta.concrete_fields}
    touched, site, key, active = (
        quote(column[name]) for name in ("last_sign_in_at", "site", "email_key", "is_active")
    )
    returned = ", ".join(quote(c) for c in _AGENT_COLUMNS)
    return (
        f"UPDATE {quote(meta.db_table)} SET {touched} = %s"  # noqa: S608
        f" WHERE {site} = %s AND {key} = %s AND {active} RETURNING {returned}"
    )


def agent_sign_in_touch(*, site: Site, key: str, at: datetime) -> Agent | None:
    """Set the last sign-in of ``site``'s active agent whose identity key is
    ``key`` to ``at``; return that agent as it now is, or None when the site
    has no active agent with that key (none, or an inactive one).

    One statement where a lookup and a save took two: an UPDATE on the
    (site, email_key) unique index that returns the row. It sends no model
    signal: the receivers of agent saves act on changes of ``is_active``
    only, which this never makes. In a sign-in's transaction, a later
    refusal rolls the new time back.
    """
    with connection.cursor() as cursor:
        cursor.execute(_agent_touch_sql(), [at, site.pk, key])
        row = cursor.fetchone()
    if row is None:
        return None
    agent = Agent.from_db(connection.alias, _AGENT_NAMES, row)
    agent.site = site  # the caller's site: no query when it is read
    return agent


def agent_deactivate(*, site: Site, agent: Agent) -> Agent:
    """Deactivate ``site``'s ``agent``; their open sessions end at once.

    Nothing else is needed for the sessions: the session layer re-checks the
    agent on every request (``agent_get_signed_in`` wants an active agent),
    so the agent's next request finds no sign-in.
    """
    if agent.site_id != site.pk:
        raise ValueError("agent of another site")
    if agent.is_active:
        agent.is_active = False
        agent.save(update_fields=["is_active"])
    return agent


def token_consume(*, site: Site, kind: str, value: str, expires_at: datetime) -> bool:
    """Mark ``value`` of ``kind`` used for ``site``; return False if it already was.

    The row must outlive the token it guards, so ``expires_at`` is the
    token's own expiry (plus leeway); ``token_purge_expired`` removes it later.
    """
    try:
        with transaction.atomic():
            UsedToken.objects.create(site=site, kind=kind, value=value, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def token_consume_in_transaction(
    *, site: Site, kind: str, value: str, expires_at: datetime
) -> bool:
    """Mark ``value`` of ``kind`` used for ``site`` within the caller's
    transaction; return False if it already was.

    No savepoint of its own: on False the transaction is broken and the
    caller must leave it by raising (``sign_in()`` refuses). The unique
    constraint still decides: a concurrent transaction inserting the same
    value waits for this one, and fails once it commits.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("token_consume_in_transaction() needs a transaction")
    try:
        # The row's one INSERT, without a model instance: on every sign-in,
        # the ORM's save machinery cost more CPU than the statement itself.
        with connection.cursor() as cursor:
            cursor.execute(_SPEND_SQL, [site.pk, kind, value, expires_at])
    except IntegrityError:
        transaction.set_rollback(True)  # as the ORM marks a failed write
        return False
    return True


# UsedToken's table and columns (tests/tenants/test_models.py compares them).
_SPEND_SQL = (
    'INSERT INTO "tenants_usedtoken" ("site_id", "kind", "value", "expires_at")'
    " VALUES (%s, %s, %s, %s)"
)


def token_purge_expired(*, now: datetime | None = None) -> int:
    """Delete single-use records whose tokens have expired; return how many."""
    deleted, _ = UsedToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


OPERATOR_GROUP = "Site operators"
OPERATOR_PERMISSIONS = {
    "tenants": [
        "view_site",
        "change_site",
        "view_agent",
        "add_agent",
        "change_agent",
        "delete_agent",
        "view_loginevent",
        "view_sitedomain",
        "add_sitedomain",
        "change_sitedomain",
        "delete_sitedomain",
    ],
    "campaigns": [
        "view_campaign",
        "add_campaign",
        "change_campaign",
        "delete_campaign",
        "view_visitor",
    ],
    "mapping": [
        "view_customvariable",
        "add_customvariable",
        "change_customvariable",
        "delete_customvariable",
        "view_fieldmapping",
        "add_fieldmapping",
        "change_fieldmapping",
        "delete_fieldmapping",
    ],
    "sso_saml": ["view_samlsettings", "add_samlsettings", "change_samlsettings"],
}


def operator_group_ensure() -> Group:
    """Return the operators' group, creating it and its permissions if needed.

    Apps added later extend ``OPERATOR_PERMISSIONS``; permissions of apps not
    installed are skipped.
    """
    group, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    wanted = Permission.objects.none()
    for app_label, codenames in OPERATOR_PERMISSIONS.items():
        wanted = wanted | Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    group.permissions.add(*wanted)
    return group


@transaction.atomic
def operator_grant(*, site: Site, user: AbstractUser) -> SiteOperator:
    """Let ``user`` administer ``site`` in the admin: staff, in the group, granted."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(operator_group_ensure())
    grant, _ = SiteOperator.objects.get_or_create(site=site, user=user)
    return grant
