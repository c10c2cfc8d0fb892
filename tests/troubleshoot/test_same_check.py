"""One table drives a real sign-in and the dry run with the same input: both
name the same reason and the same failed check, and the dry run writes
nothing (no audit row, no replay entry, no session).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sso_site.signin.keys import session_key_for
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Audience, LoginEvent, Site, UsedToken
from tests.fixtures.jwt import callback_url
from tests.fixtures.saml import ResponseFactory, acs_post
from tests.security import test_jwt_attacks as jwt_attacks
from tests.security import test_saml_attacks as saml_attacks
from troubleshoot.dryrun import Report, jwt_dry_run, saml_dry_run

R = RefusalReason
# Refused by the session layer or the view, not by the checks a dry run runs;
# and a request answered in another browser (a dry run has no browser).
NOT_DRY_RUN = {
    R.UNKNOWN_AGENT,
    R.AGENT_INACTIVE,
    R.SITE_DISABLED,
    R.UNSAFE_REDIRECT,
    R.SAML_IN_RESPONSE_TO,
}


def _writes() -> tuple[int, int]:
    return LoginEvent.objects.count(), UsedToken.objects.count()


def _assert_same(report: Report, event: LoginEvent, reason: RefusalReason) -> None:
    assert event.reason == reason
    assert report.reason == reason, (report.reason, report.failed_check, report.steps)
    assert report.failed_check == event.detail["check"]
    assert report.steps[-1].name == report.failed_check
    assert not report.steps[-1].ok


strict_sp = saml_attacks.strict_sp  # the SP fixture the table's rows are made for

# A 3 MB body is refused by the HTTP layer (check "body_size") before any
# check runs; the console has its own input limit.
STRICT = [case for case in saml_attacks.STRICT if case[0] != "body_3mb"]


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in STRICT], ids=[name for name, _, _ in STRICT]
)
def test_saml_strict_profile(
    make: Callable[[Any], str],
    reason: RefusalReason,
    strict_sp: Any,
    agent: Agent,
    admin_request: Any,
) -> None:
    saml_response = make(strict_sp)
    LoginEvent.objects.all().delete()
    before = _writes()
    audience = Audience(strict_sp.audience)

    report = saml_dry_run(admin_request, site=strict_sp.site, audience=audience, text=saml_response)

    assert _writes() == before
    strict_sp.post(saml_response)
    assert session_key_for(audience) not in strict_sp.client.session
    _assert_same(report, LoginEvent.objects.get(), reason)


SAML_ATTACKS = [(f, r) for f, r in saml_attacks.ATTACKS if r not in NOT_DRY_RUN]


@pytest.mark.parametrize(
    ("forgery", "reason"), SAML_ATTACKS, ids=[f.__name__ for f, _ in SAML_ATTACKS]
)
def test_saml_attacks(
    forgery: Callable[[Any], str],
    reason: RefusalReason,
    client: Client,
    saml_site: Site,
    saml_other_site: Site,
    agent: Agent,
    saml_response_factory: ResponseFactory,
    idp_a: Any,
    idp_b: Any,
    rogue_idp: Any,
    admin_request: Any,
) -> None:
    attack = saml_attacks.Attack(
        client, saml_site, saml_other_site, agent, saml_response_factory, idp_a, idp_b, rogue_idp
    )
    saml_response = forgery(attack)
    LoginEvent.objects.all().delete()
    before = _writes()

    report = saml_dry_run(
        admin_request, site=saml_site, audience=Audience.AGENT, text=saml_response
    )

    assert _writes() == before
    acs_post(client, saml_site, saml_response, relay_state=attack.relay_state)
    assert session_key_for(Audience.AGENT) not in client.session
    _assert_same(report, LoginEvent.objects.get(), reason)


JWT_ATTACKS = [a for a in jwt_attacks.ATTACKS if a[3] not in NOT_DRY_RUN]


@pytest.mark.parametrize(
    ("site_alg", "forgery", "reason"),
    [pytest.param(alg, forge, reason, id=name) for name, alg, forge, reason in JWT_ATTACKS],
)
def test_jwt_attacks(
    client: Client,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: Any,
    keyring: Any,
    request: pytest.FixtureRequest,
    site_alg: str,
    forgery: Any,
    reason: RefusalReason,
) -> None:
    jwt_configure(site, site_alg, mfa_required=request.node.callspec.id in {"no_mfa"})
    ctx = jwt_attacks.Ctx(site=site, agent=jwt_agent, make=jwt_factory, keys=keyring, alg=site_alg)
    presented, params = forgery(ctx)
    LoginEvent.objects.filter(outcome="refused").delete()
    before = _writes()

    report = jwt_dry_run(site=site, audience=Audience.AGENT, token=presented or "")

    assert _writes() == before
    query = {**params, **({"jwt": presented} if presented is not None else {})}
    client.get(callback_url(site), query)
    assert session_key_for(Audience.AGENT) not in client.session
    _assert_same(report, LoginEvent.objects.get(outcome="refused"), reason)
