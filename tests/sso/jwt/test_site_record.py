"""The per-site record (issue 19): a change reaches the very next sign-in.

Each process keeps what sign-ins read of a site (the site row, JWT settings,
mapping rules, access policy, group mappings, webhook endpoints) checked
against the site's version stamp in Redis. These tests change each kind of
thing the way the admin, the API or a bulk update does, then sign in again:
in this process, and in another one (a gunicorn worker) that had the old
record warm.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings

from access.models import AccessPolicy
from mapping.models import FieldMapping
from scim.models import GroupRole
from sso.jwt.models import JwtSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tenants.selectors import site_get_by_public_id
from tenants.site_record import site_records_clear, site_records_held, site_version_key
from tests.factories import SiteFactory
from tests.fixtures.jwt import JwtFactory, Keyring, callback_url, public_pem, reason_on_page
from tests.ops.servers import gunicorn, server_env


def _answer(site: Site, token: str) -> str:
    """Sign in through the test client: "" when signed in, else the reason."""
    response = Client().get(callback_url(site), {"jwt": token})
    return "" if response.status_code == 302 else reason_on_page(response)


def _require_name(site: Site, required: bool) -> None:
    row = FieldMapping.objects.get(site=site, audience="agent", protocol="jwt", target="name")
    row.required = required
    row.save()


def test_committed_changes_reach_the_next_sign_in_of_a_warm_process(
    transactional_db: None,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
) -> None:
    config: JwtSettings = jwt_configure(site)
    assert _answer(site, jwt_factory(site)) == ""  # the record is warm now

    site.is_active = False
    site.save()
    assert _answer(site, jwt_factory(site)) == RefusalReason.SITE_DISABLED
    Site.objects.filter(pk=site.pk).update(is_active=True)  # no signal: the queryset bumps
    assert _answer(site, jwt_factory(site)) == ""

    config.public_key = public_pem(keyring.rsa_next)
    config.save()
    assert _answer(site, jwt_factory(site)) == RefusalReason.JWT_BAD_SIGNATURE
    assert _answer(site, jwt_factory(site, key=keyring.rsa_next)) == ""

    _require_name(site, True)
    assert _answer(site, jwt_factory(site, key=keyring.rsa_next)) == RefusalReason.MAPPING_FAILED
    FieldMapping.objects.filter(site=site).update(required=False)
    assert _answer(site, jwt_factory(site, key=keyring.rsa_next)) == ""

    AccessPolicy.objects.create(site=site, agent_networks="192.0.2.0/24")
    assert _answer(site, jwt_factory(site, key=keyring.rsa_next)) == RefusalReason.IP_NOT_ALLOWED
    AccessPolicy.objects.filter(site=site).delete()

    GroupRole.objects.create(site=site, group_name="Supervisors", role=Agent.Role.SUPERVISOR)
    assert _answer(site, jwt_factory(site, key=keyring.rsa_next, groups=["Supervisors"])) == ""
    jwt_agent.refresh_from_db()
    assert jwt_agent.role == Agent.Role.SUPERVISOR


@pytest.mark.slow
def test_another_app_server_sees_each_change_at_its_next_sign_in(
    transactional_db: None,
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
) -> None:
    config: JwtSettings = jwt_configure(site)
    with gunicorn(server_env(), workers=1) as base:
        url = f"{base}{callback_url(site)}"

        def answer(token: str) -> str:
            response = requests.get(url, params={"jwt": token}, allow_redirects=False, timeout=10)
            return "" if response.status_code == 302 else reason_on_page(response)

        assert answer(jwt_factory(site)) == ""  # that process's record is warm
        assert answer(jwt_factory(site)) == ""

        site.is_active = False
        site.save()
        assert answer(jwt_factory(site)) == RefusalReason.SITE_DISABLED
        Site.objects.filter(pk=site.pk).update(is_active=True)
        assert answer(jwt_factory(site)) == ""

        config.public_key = public_pem(keyring.rsa_next)
        config.save()
        assert answer(jwt_factory(site)) == RefusalReason.JWT_BAD_SIGNATURE
        assert answer(jwt_factory(site, key=keyring.rsa_next)) == ""

        _require_name(site, True)
        assert answer(jwt_factory(site, key=keyring.rsa_next)) == RefusalReason.MAPPING_FAILED
        _require_name(site, False)
        assert answer(jwt_factory(site, key=keyring.rsa_next)) == ""


def test_a_change_rolled_back_is_not_kept(transactional_db: None, site: Site) -> None:
    assert site_get_by_public_id(site_id=site.site_id) == site  # warm
    seen: list[bool] = []

    def disable_then_fail() -> None:
        with transaction.atomic():
            site.is_active = False
            site.save()
            # The changing transaction sees its own change...
            found = site_get_by_public_id(site_id=site.site_id)
            seen.append(found is not None and found.is_active)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        disable_then_fail()
    assert seen == [False]
    # ... and nobody keeps it once it is rolled back.
    again = site_get_by_public_id(site_id=site.site_id)
    assert again is not None
    assert again.is_active


def test_a_version_written_elsewhere_reloads_the_record(
    transactional_db: None, site: Site, django_assert_num_queries: Any
) -> None:
    site_get_by_public_id(site_id=site.site_id)
    site_get_by_public_id(site_id=site.site_id)
    with django_assert_num_queries(0):
        assert site_get_by_public_id(site_id=site.site_id) == site
    # Another app server saved the site behind this one's back (the row
    # changed without a signal here) and wrote a new version.
    Site.objects.filter(pk=site.pk).update(name="Renamed")  # bumps too, as it must
    cache.set(site_version_key(site.pk), "from-another-server")
    with django_assert_num_queries(1):
        found = site_get_by_public_id(site_id=site.site_id)
    assert found is not None
    assert found.name == "Renamed"


BROKEN_CACHE = {
    "default": {
        "BACKEND": "sso_site.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
}


def test_without_the_shared_cache_every_read_goes_to_the_database(
    transactional_db: None, site: Site, django_assert_num_queries: Any
) -> None:
    site_get_by_public_id(site_id=site.site_id)
    site_get_by_public_id(site_id=site.site_id)
    with override_settings(CACHES=BROKEN_CACHE):
        with django_assert_num_queries(1):
            assert site_get_by_public_id(site_id=site.site_id) == site
        Site.objects.filter(pk=site.pk).update(name="Changed while Redis was down")
        found = site_get_by_public_id(site_id=site.site_id)
    assert found is not None
    assert found.name == "Changed while Redis was down"


@override_settings(SSO_SITE_RECORD_SITES=2)
def test_the_records_are_bounded_least_recently_used_first_out(transactional_db: None) -> None:
    site_records_clear()
    sites = [SiteFactory.create(site_id=20001 + n) for n in range(3)]
    for site in sites:
        site_get_by_public_id(site_id=site.site_id)
        site_get_by_public_id(site_id=site.site_id)
    assert site_records_held() == 2
