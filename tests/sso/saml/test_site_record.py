"""The ACS reads its site and SAML settings from the site's record (issue 19,
``tenants.site_record``): a change of the settings reaches the very next
sign-in, and a warm sign-in reads no row of its own.

Committed data (``transactional_db``), as in production: what a transaction
changed itself is never cached, so inside a test's transaction nothing
would be.
"""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from devidp.idp import DevIdp
from devidp.saml_kit import saml_settings_create, sign_in_start
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.signin.refusals import RefusalReason as R
from tenants.models import Agent, Site
from tests.fixtures.jwt import reason_on_page
from tests.fixtures.saml import ResponseFactory, acs_post


def _answer(site: Site, encoded: str, client: Client | None = None) -> str:
    """Post to the ACS: "" when signed in, else the reason code."""
    response = acs_post(client or Client(), site, encoded)
    return "" if response.status_code == 302 else reason_on_page(response)


def test_saml_settings_changes_reach_the_next_sign_in_of_a_warm_process(
    transactional_db: None,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    idp_b: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    settings = saml_settings_create(site, idp_a, allow_idp_initiated=True)

    def unsolicited() -> str:
        return _answer(site, saml_response_factory(site, in_response_to=None))

    assert unsolicited() == ""  # the record (and the SP configuration) is warm now
    assert unsolicited() == ""

    # A queryset update sends no signal: the queryset gives the site a new version.
    SamlSettings.objects.filter(pk=settings.pk).update(allow_idp_initiated=False)
    assert unsolicited() == R.SAML_UNSOLICITED
    settings.refresh_from_db()
    settings.allow_idp_initiated = True
    settings.save()
    assert unsolicited() == ""

    settings.mfa_required = True
    settings.mfa_context_refs = "urn:example:only-this-context"
    settings.save()
    assert unsolicited() == R.MFA_REQUIRED
    SamlSettings.objects.filter(pk=settings.pk).update(mfa_required=False)
    assert unsolicited() == ""

    # Another IdP's metadata: the SP configuration derived from it is rebuilt.
    settings.refresh_from_db()
    settings.metadata_xml = idp_b.metadata_xml()
    saml_settings_save(settings)
    assert unsolicited() == R.SAML_WRONG_ISSUER
    settings.metadata_xml = idp_a.metadata_xml()
    saml_settings_save(settings)
    assert unsolicited() == ""

    # Made first: the SP metadata the factory reads is gone with the settings.
    later = [saml_response_factory(site, in_response_to=None) for _ in range(3)]
    settings.enabled = False
    settings.save()
    assert _answer(site, later[0]) == R.NOT_CONFIGURED
    settings.delete()
    assert _answer(site, later[1]) == R.NOT_CONFIGURED
    saml_settings_create(site, idp_a, allow_idp_initiated=True)
    assert _answer(site, later[2]) == ""


def _statements(site: Site, encoded: str, client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert _answer(site, encoded, client) == ""
    return [q["sql"] for q in queries]


def _starts(statements: list[str], expected: list[str]) -> None:
    shown = "\n".join(sql[:90] for sql in statements)
    assert len(statements) == len(expected), shown
    for sql, start in zip(statements, expected, strict=True):
        assert sql.startswith(start), (sql[:90], start)


# One transaction for the sign-in (the assertion ID spent, the agent found
# by its identity key and its last sign-in set in one UPDATE, the audit row),
# then the new session in one INSERT of its own.
SIGN_IN = [
    "BEGIN",
    'INSERT INTO "tenants_usedtoken"',
    'UPDATE "tenants_agent" SET "last_sign_in_at"',
    'INSERT INTO "tenants_loginevent"',
    "COMMIT",
    'INSERT INTO "django_session"',
]


def test_a_warm_idp_initiated_sign_in_reads_no_row_of_its_own(
    transactional_db: None,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    """Issue 19: no SAML settings row, no site row (one Redis GET instead)."""
    saml_settings_create(site, idp_a, allow_idp_initiated=True)
    assert _answer(site, saml_response_factory(site, in_response_to=None)) == ""

    warm = _statements(site, saml_response_factory(site, in_response_to=None), Client())

    # sign_in()'s own transaction block is a savepoint in the ACS's.
    assert sum(sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for sql in warm) <= 2, warm
    _starts([sql for sql in warm if "SAVEPOINT" not in sql], SIGN_IN)


def test_a_warm_sp_initiated_sign_in_adds_only_the_saml_session(
    transactional_db: None,
    site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    """The browser's SAML session is read, and written once: the answered
    request is forgotten (single use).
    """
    saml_settings_create(site, idp_a)
    client = Client()
    first = saml_response_factory(site, in_response_to=sign_in_start(client, site, idp_a))
    assert _answer(site, first, client) == ""
    client = Client()
    encoded = saml_response_factory(site, in_response_to=sign_in_start(client, site, idp_a))

    warm = [sql for sql in _statements(site, encoded, client) if "SAVEPOINT" not in sql]

    saml_session = ['SELECT "django_session"']
    saml_session_write = ["BEGIN", 'UPDATE "django_session"', "COMMIT"]
    _starts(warm, saml_session + SIGN_IN[:5] + saml_session_write + SIGN_IN[5:])
