"""``sign_in()`` and ``sign_out()``: the only functions that write sign-in
state into a session.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from sso_site.signin.identity import SignInResult, VerifiedIdentity
from sso_site.signin.keys import session_key_for
from sso_site.signin.redirects import redirect_target_check
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Agent, Audience, LoginEvent, Site
from tenants.selectors import agent_get_by_email, agent_get_by_pk
from tenants.services import agent_create, audit_record


@transaction.atomic
def sign_in(
    request: HttpRequest, *, identity: VerifiedIdentity, return_to: str | None = None
) -> SignInResult:
    """Sign the person described by ``identity`` into ``request``'s session.

    Raise SignInRefused before touching the session: every check and every
    database write happens first, the session binding last.
    """
    site = identity.site
    if not site.is_active:
        raise _refused(RefusalReason.SITE_DISABLED, identity)
    if identity.audience != Audience.AGENT:
        # Visitor sign-in arrives with campaigns; until then nothing can
        # create a visitor principal.
        raise _refused(RefusalReason.NOT_CONFIGURED, identity)
    redirect_to = redirect_target_check(
        request, site=site, target=return_to, default=reverse("console:index")
    )
    agent = _agent_for(identity)
    agent.last_sign_in_at = timezone.now()
    agent.save(update_fields=["last_sign_in_at"])
    audit_record(
        request,
        site=site,
        audience=identity.audience,
        protocol=identity.protocol,
        outcome=LoginEvent.Outcome.SUCCESS,
        subject=identity.subject,
        detail={"reference": identity.reference} if identity.reference else None,
    )
    _session_bind(request, identity=identity, principal=agent)
    return SignInResult(principal=agent, redirect_to=redirect_to)


def sign_out(request: HttpRequest, *, audience: Audience) -> Site | None:
    """End ``audience``'s sign-in in ``request``'s session; return its site.

    The whole session is flushed (new key, no data), as Django's
    ``logout()`` does, so nothing of the signed-in state survives.
    """
    principal = principal_from_session(request, audience=audience)
    site = principal.site if principal is not None else None
    if principal is not None:
        binding = request.session.get(session_key_for(audience), {})
        audit_record(
            request,
            site=site,
            audience=audience,
            protocol=binding.get("protocol"),
            outcome=LoginEvent.Outcome.SIGNED_OUT,
            subject=principal.email,
        )
    request.session.flush()
    return site


def principal_from_session(request: HttpRequest, *, audience: Audience) -> Agent | None:
    """Return the principal bound to ``request``'s session, if still valid.

    Valid means: the site is active, the principal belongs to it and is
    active, and the site's session lifetime has not run out since sign-in.
    """
    binding: dict[str, Any] | None = request.session.get(session_key_for(audience))
    if not binding or audience != Audience.AGENT:
        return None
    site = Site.objects.filter(pk=int(binding.get("site", 0)), is_active=True).first()
    if site is None or time.time() - binding.get("at", 0) > site.session_lifetime:
        return None
    agent = agent_get_by_pk(site=site, pk=binding.get("principal", 0))
    if agent is None or not agent.is_active:
        return None
    agent.site = site
    return agent


def _agent_for(identity: VerifiedIdentity) -> Agent:
    agent = agent_get_by_email(site=identity.site, email=identity.subject)
    if agent is None and identity.jit_role:
        name = str(identity.claims.get("name", ""))[:200]
        return agent_create(
            site=identity.site, email=identity.subject, name=name, role=identity.jit_role
        )
    if agent is None:
        raise _refused(RefusalReason.UNKNOWN_AGENT, identity)
    if not agent.is_active:
        raise _refused(RefusalReason.AGENT_INACTIVE, identity)
    return agent


def _refused(reason: RefusalReason, identity: VerifiedIdentity) -> SignInRefused:
    return SignInRefused(
        reason,
        site=identity.site,
        audience=identity.audience,
        protocol=identity.protocol,
        subject=identity.subject,
        detail={"reference": identity.reference} if identity.reference else None,
    )


def _session_bind(request: HttpRequest, *, identity: VerifiedIdentity, principal: Agent) -> None:
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
    else:
        request.session.cycle_key()
    request.session[key] = {
        "site": identity.site.pk,
        "principal": principal.pk,
        "protocol": str(identity.protocol),
        "at": int(time.time()),
    }
    site = identity.site
    request.session.set_expiry(0 if site.session_ends_with_browser else site.session_lifetime)
