"""``sign_in()`` and ``sign_out()``: the only functions that write sign-in
state into a session.
"""

from __future__ import annotations

import time
from typing import Any, Literal, overload

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from access.selectors import agent_network_allowed
from campaigns.models import Visitor
from campaigns.selectors import visitor_get_by_pk
from campaigns.services import visitor_upsert
from mapping.services import MappedFields, MappingRefusedError, mapping_apply
from scim.services import agent_groups_sign_in
from sso_site.signin.identity import SignInResult, VerifiedIdentity
from sso_site.signin.keys import session_key_for
from sso_site.signin.redirects import redirect_target_check
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.identity_keys import IdentityError, email_key, subject_validate
from tenants.inputs import text_clean
from tenants.models import Agent, Audience, LoginEvent, Site
from tenants.selectors import (
    agent_get_by_key,
    agent_get_by_pk,
    agent_get_signed_in,
    site_get_usable,
    site_is_usable,
    site_jit_domains,
)
from tenants.services import (
    agent_create,
    agent_sign_in_touch,
    audit_record,
    client_ip,
    token_consume,
    token_consume_in_transaction,
)
from webhooks.services import sign_in_emit

EXTERNAL_ID_MAX = 255


def sign_in(
    request: HttpRequest, *, identity: VerifiedIdentity, return_to: str | None = None
) -> SignInResult:
    """Sign the person described by ``identity`` into ``request``'s session.

    Raise SignInRefused before touching the session: every check and every
    database write happens first, the session binding last. The site's
    field mapping runs for both audiences; a mapping problem refuses.
    The identity's single-use identifier is spent in the sign-in's own
    transaction, first; refused for any other reason, it is spent all the
    same (in a transaction of its own, as the refusal rolled the first back).
    """
    try:
        return _sign_in(request, identity=identity, return_to=return_to)
    except SignInRefused as refusal:
        once = identity.single_use
        if once is not None and refusal is not once.replay:
            token_consume(
                site=identity.site, kind=once.kind, value=once.value, expires_at=once.expires_at
            )
        raise


@transaction.atomic
def _sign_in(
    request: HttpRequest, *, identity: VerifiedIdentity, return_to: str | None
) -> SignInResult:
    site = identity.site
    once = identity.single_use
    # First, so that a replay is refused before anything else is looked at
    # (as when the adapter spent it), and in this transaction: the row
    # commits with the sign-in, and a second use waits on it, then fails.
    if once is not None and not token_consume_in_transaction(
        site=site, kind=once.kind, value=once.value, expires_at=once.expires_at
    ):
        raise once.replay
    if not site_is_usable(site):
        raise _refused(RefusalReason.SITE_DISABLED, identity)
    if not identity.subject.isprintable():
        # NUL and other control characters never belong in an email or an
        # external ID, and PostgreSQL refuses NUL in a query parameter.
        raise _refused(RefusalReason.BAD_REQUEST, identity)
    if identity.audience == Audience.AGENT and not agent_network_allowed(
        site=site, address=client_ip(request)
    ):
        raise _refused(RefusalReason.IP_NOT_ALLOWED, identity)
    principal: Agent | Visitor
    if identity.audience == Audience.VISITOR:
        redirect_to = redirect_target_check(
            request, site=site, target=return_to, default=reverse("visitor-signed-in")
        )
        principal = _visitor_for(identity, _mapped(identity))
    else:
        redirect_to = redirect_target_check(
            request, site=site, target=return_to, default=reverse("console:index")
        )
        principal = _agent_for(identity)
    audit_record(
        request,
        site=site,
        audience=identity.audience,
        protocol=identity.protocol,
        outcome=LoginEvent.Outcome.SUCCESS,
        subject=identity.subject,
        # What came in (subject) and whom it matched.
        detail={
            "principal": principal.pk,
            "matched": _subject_of(principal),
            **({"reference": identity.reference} if identity.reference else {}),
        },
    )
    sign_in_emit(
        site=site,
        audience=identity.audience,
        protocol=identity.protocol,
        subject=identity.subject,
        reference=identity.reference,
    )
    _session_bind(request, identity=identity, principal=principal)
    return SignInResult(principal=principal, redirect_to=redirect_to)


def sign_out(request: HttpRequest, *, audience: Audience) -> Site | None:
    """End ``audience``'s sign-in in ``request``'s session; return its site.

    The whole session is flushed (new key, no data), as Django's
    ``logout()`` does, so nothing of the signed-in state survives.
    """
    principal = principal_from_session(request, audience=audience)
    site = principal.site if principal is not None else None
    if principal is not None:
        binding = request.session.get(session_key_for(audience), {})
        # The logout hooks run after this flush (the IdP's single logout):
        # they get what the ended sign-in kept for them from the request.
        ended = getattr(request, "_sso_ended_logout", {})
        ended[str(audience)] = (principal.site.pk, dict(binding.get("logout") or {}))
        request._sso_ended_logout = ended  # type: ignore[attr-defined]
        audit_record(
            request,
            site=site,
            audience=audience,
            protocol=binding.get("protocol"),
            outcome=LoginEvent.Outcome.SIGNED_OUT,
            subject=_subject_of(principal),
        )
    request.session.flush()
    return site


def logout_data(request: HttpRequest, *, site: Site, audience: Audience | str) -> dict[str, str]:
    """Return what the sign-in of ``audience`` at ``site`` kept for its
    protocol's logout (``VerifiedIdentity.logout``): the session's own
    binding, or the one ``sign_out()`` ended during this request; else {}.
    """
    binding = request.session.get(session_key_for(audience)) or {}
    if binding.get("site") == site.pk and isinstance(binding.get("logout"), dict):
        return dict(binding["logout"])
    ended_site, data = getattr(request, "_sso_ended_logout", {}).get(str(audience), (0, {}))
    return dict(data) if ended_site == site.pk else {}


@overload
def principal_from_session(
    request: HttpRequest, *, audience: Literal[Audience.AGENT]
) -> Agent | None: ...
@overload
def principal_from_session(
    request: HttpRequest, *, audience: Literal[Audience.VISITOR]
) -> Visitor | None: ...
@overload
def principal_from_session(
    request: HttpRequest, *, audience: Audience
) -> Agent | Visitor | None: ...
def principal_from_session(request: HttpRequest, *, audience: Audience) -> Agent | Visitor | None:
    """Return the principal bound to ``request``'s session, if still valid.

    Valid means: the site is active, the principal belongs to it (and, for
    an agent, is active), and the site's session lifetime has not run out
    since sign-in.
    """
    binding: dict[str, Any] | None = request.session.get(session_key_for(audience))
    if not binding:
        return None
    site_pk, pk = int(binding.get("site", 0)), int(binding.get("principal", 0))
    principal: Agent | Visitor | None
    if audience == Audience.VISITOR:
        site = site_get_usable(pk=site_pk)
        principal = visitor_get_by_pk(site=site, pk=pk) if site is not None else None
    else:
        principal = agent_get_signed_in(site_pk=site_pk, pk=pk)
    if principal is None or time.time() - binding.get("at", 0) > principal.site.session_lifetime:
        return None
    return principal


def agent_binding_refusal(binding: dict[str, Any]) -> SignInRefused | None:
    """Return why an agent binding no longer holds if its agent was
    deprovisioned (deactivated, or deleted by SCIM), else None.
    """
    site = site_get_usable(pk=int(binding.get("site", 0)))
    if site is None:
        return None
    agent = agent_get_by_pk(site=site, pk=int(binding.get("principal", 0)))
    if agent is not None and agent.is_active:
        return None  # the lifetime ran out: nothing to say
    return SignInRefused(
        RefusalReason.AGENT_INACTIVE if agent is not None else RefusalReason.UNKNOWN_AGENT,
        site=site,
        audience=Audience.AGENT,
        subject=agent.email if agent is not None else "",
        detail={"session": "ended", "agent": int(binding.get("principal", 0))},
    )


def _mapped(identity: VerifiedIdentity) -> MappedFields:
    """Return the mapped fields; a mapping problem becomes MAPPING_FAILED."""
    try:
        return mapping_apply(
            site=identity.site,
            audience=identity.audience,
            protocol=identity.protocol,
            claims=identity.claims,
        )
    except MappingRefusedError as problem:
        raise SignInRefused(
            RefusalReason.MAPPING_FAILED,
            site=identity.site,
            audience=identity.audience,
            protocol=identity.protocol,
            subject=identity.subject,
            detail={
                "fields": problem.fields,
                "problems": problem.problems,
                **({"reference": identity.reference} if identity.reference else {}),
            },
        ) from problem


def _key_for(identity: VerifiedIdentity, value: str) -> str:
    """Return the identity key of ``value`` (an email), or refuse: never a near match."""
    try:
        return email_key(value)
    except IdentityError as error:
        reason = RefusalReason.IDENTITY_LOOKALIKE if error.lookalike else RefusalReason.BAD_REQUEST
        raise _refused(reason, identity, identity_problem=error.code) from None


def _agent_for(identity: VerifiedIdentity) -> Agent:
    """Return the agent matched on the identity key, created just in time if
    allowed (for the site's domains only), with the fields the site lets a
    sign-in refresh.
    """
    site = identity.site
    key = _key_for(identity, identity.subject)
    now = timezone.now()
    # The usual case in one statement: the active agent found and its last
    # sign-in set (rolled back with the transaction if a check below refuses).
    agent = agent_sign_in_touch(site=site, key=key, at=now)
    touched = agent is not None
    if agent is None:
        agent = agent_get_by_key(site=site, key=key)
    if agent is None and not identity.jit_role:
        raise _refused(RefusalReason.UNKNOWN_AGENT, identity)
    if agent is not None and not agent.is_active:
        raise _refused(RefusalReason.AGENT_INACTIVE, identity)
    if agent is None and key.rpartition("@")[2] not in site_jit_domains(site=site):
        raise _refused(RefusalReason.JIT_DOMAIN, identity)
    mapped = _mapped(identity).fields
    if agent is None:
        claimed = identity.claims.get("name")
        name = mapped.get("name", claimed if isinstance(claimed, str) else "")
        try:
            agent = agent_create(
                site=site,
                email=identity.subject,
                name=text_clean(str(name))[:200],
                role=mapped.get("role", identity.jit_role),
                source=Agent.Source.JIT,
            )
        except (ValidationError, IntegrityError):
            # IntegrityError: a concurrent sign-in created the same agent first.
            raise _refused(RefusalReason.BAD_REQUEST, identity, identity_problem="jit") from None
        changed: list[str] = []
    else:
        changed = [name for name in site.agent_sync_fields if name in mapped]
    for name in changed:
        setattr(agent, name, mapped[name])
    changed += agent_groups_sign_in(site=site, agent=agent, claims=identity.claims)
    if not touched:
        agent.last_sign_in_at = now
        changed.append("last_sign_in_at")
    if changed:
        agent.save(update_fields=changed)
    return agent


def _visitor_for(identity: VerifiedIdentity, mapped: MappedFields) -> Visitor:
    """Create or refresh the visitor: keyed by the mapped external ID, else the subject.

    An external ID that is an email is keyed as agents are (``email_key``).
    """
    fields = dict(mapped.fields)
    raw = fields.pop("external_id", "") or identity.subject
    try:
        external_id = subject_validate(str(raw), max_length=EXTERNAL_ID_MAX)
    except IdentityError as error:
        code = "missing" if not str(raw).strip() else error.code.replace("invalid", "wrong_type")
        raise SignInRefused(
            RefusalReason.MAPPING_FAILED,
            site=identity.site,
            audience=identity.audience,
            protocol=identity.protocol,
            subject=identity.subject[:254],
            detail={
                "fields": ["external_id"],
                "problems": [{"target": "external_id", "code": code}],
                **({"reference": identity.reference} if identity.reference else {}),
            },
        ) from None
    if "@" in external_id:
        try:
            external_id = email_key(external_id)
        except IdentityError as error:
            if error.lookalike:
                raise _refused(
                    RefusalReason.IDENTITY_LOOKALIKE, identity, identity_problem=error.code
                ) from None
            # Not an email at all: an opaque external ID, kept as it is.
    return visitor_upsert(
        site=identity.site,
        external_id=external_id,
        protocol=identity.protocol,
        fields=fields,
        custom=mapped.custom,
    )


def _subject_of(principal: Agent | Visitor) -> str:
    return principal.email if isinstance(principal, Agent) else principal.external_id


def _refused(reason: RefusalReason, identity: VerifiedIdentity, **detail: str) -> SignInRefused:
    return SignInRefused(
        reason,
        site=identity.site,
        audience=identity.audience,
        protocol=identity.protocol,
        subject=identity.subject,
        detail={**({"reference": identity.reference} if identity.reference else {}), **detail},
    )


def _session_bind(
    request: HttpRequest, *, identity: VerifiedIdentity, principal: Agent | Visitor
) -> None:
    """Write the binding: the last step of a sign-in, after every DB write.

    A new session key always (session fixation); the whole session is
    flushed first when it held someone else of this audience, so nothing of
    theirs carries over.
    """
    key = session_key_for(identity.audience)
    previous = request.session.get(key)
    if previous and (
        previous.get("site") != identity.site.pk or previous.get("principal") != principal.pk
    ):
        request.session.flush()
    elif request.session.session_key is not None:
        request.session.cycle_key()
    # A session with no key yet gets a fresh one when it is first saved:
    # there is nothing to fixate, and rotating would cost an extra insert.
    request.session[key] = {
        "site": identity.site.pk,
        "principal": principal.pk,
        "protocol": str(identity.protocol),
        "at": int(time.time()),
        **({"logout": dict(identity.logout)} if identity.logout else {}),
    }
    site = identity.site
    request.session.set_expiry(0 if site.session_ends_with_browser else site.session_lifetime)
