"""The rules cache: a per-process copy checked against the site's shared version."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from mapping.services import mapping_apply, rules_for_site
from tenants.models import Audience, Protocol, Site
from tenants.site_record import site_version_key
from tests.mapping.shapes import mapping


def test_rules_are_read_once_per_version(site: Site, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        first = rules_for_site(site=site)
    with django_assert_num_queries(0):
        assert rules_for_site(site=site) is first
    # Another app server saved a mapping: it wrote a new version.
    cache.set(site_version_key(site.pk), "from-another-server")
    with django_assert_num_queries(1):
        assert rules_for_site(site=site) == first


def test_a_saved_mapping_gives_a_new_version(site: Site) -> None:
    before = rules_for_site(site=site)
    mapping(site, source="tel", target="phone")
    after = rules_for_site(site=site)
    assert after != before
    assert any(rule.target == "phone" for rule in after[("visitor", "jwt")])


BROKEN_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
}


def test_without_the_cache_sign_ins_still_map(site: Site) -> None:
    mapping(site, source="tel", target="phone")
    with override_settings(CACHES=BROKEN_CACHE):
        with pytest.raises(Exception):  # noqa: B017, PT011 - any connection error
            cache.get("probe")
        mapped = mapping_apply(
            site=site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            claims={"tel": "+1 555", "name": "Ann"},
        )
    assert mapped.fields == {"phone": "+1 555", "name": "Ann"}
