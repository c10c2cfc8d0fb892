"""What field mapping costs a sign-in, for a site with 50 mappings.

1. The pure engine (``map_fields``): 50 rules of every type over JWT claims
   (dotted paths) and over a pysaml2 ``ava`` (attribute lists).
2. ``mapping_apply`` with the rule load: cached (the shared Redis cache) and
   uncached (one query on PostgreSQL, then the engine).
3. A whole visitor ``sign_in()`` with 50 mappings and with none.

Run: ``DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.mapping_engine``
(creates and drops a ``test_`` database, as the test suite does).
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from mapping.mapper import FieldType, MultiValue, Rule, SourceKind, map_fields  # noqa: E402
from mapping.models import CustomVariable, FieldMapping  # noqa: E402
from mapping.services import mapping_apply, rules_forget  # noqa: E402
from sso_site.signin.identity import VerifiedIdentity  # noqa: E402
from sso_site.signin.session import sign_in  # noqa: E402
from tenants.models import Audience, Protocol, Site  # noqa: E402

RULES = 50
TYPES = [FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATE, FieldType.EMAIL]
SAMPLES = {
    FieldType.TEXT: " Some Text ",
    FieldType.NUMBER: "1200.5",
    FieldType.BOOLEAN: "yes",
    FieldType.DATE: "2021-05-01",
    FieldType.EMAIL: "Ann@Shop.Example",
    FieldType.CHOICE: "vip",
}


def kind_of(i: int) -> FieldType:
    return FieldType.CHOICE if i % 6 == 5 else TYPES[i % 6 % 5]


def engine_rules(*, saml: bool) -> list[Rule]:
    return [
        Rule(
            source=f"attr_{i}" if saml else f"group_{i % 5}.field_{i}",
            target=f"custom.v{i}",
            type=kind_of(i),
            required=i % 2 == 0,
            choices=("VIP", "Basic", "Trial") if kind_of(i) is FieldType.CHOICE else (),
            lower=True,
            multi=MultiValue.ALL if saml and i % 10 == 0 else MultiValue.FIRST,
        )
        for i in range(RULES)
    ]


def jwt_claims() -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "cust-1", "external_id": "cust-1", "iat": 1, "exp": 2}
    for i in range(RULES):
        claims.setdefault(f"group_{i % 5}", {})[f"field_{i}"] = SAMPLES[kind_of(i)]
    return claims


def saml_ava() -> dict[str, list[str]]:
    return {f"attr_{i}": [SAMPLES[kind_of(i)]] * 2 for i in range(RULES)}


def per_call_us(func: Callable[[], object], number: int) -> float:
    """Best of 5 runs, in microseconds per call (the least disturbed by other load)."""
    runs = timeit.repeat(func, number=number, repeat=5)
    return min(runs) / number * 1e6


def bench_engine() -> None:
    for label, rules, data, kind in [
        ("JWT claims, dotted paths", engine_rules(saml=False), jwt_claims(), SourceKind.CLAIMS),
        ("SAML ava, attribute lists", engine_rules(saml=True), saml_ava(), SourceKind.SAML),
    ]:
        result = map_fields(rules, data, source_kind=kind)
        assert result.ok, result.problems[:3]
        assert len(result.values) == RULES
        cost = per_call_us(lambda r=rules, d=data, k=kind: map_fields(r, d, source_kind=k), 2000)
        print(f"engine, {RULES} mappings, {label}: {cost:.1f} us per sign-in")


def site_with_mappings(site_id: int, count: int) -> Site:
    site = Site.objects.create(site_id=site_id, name=f"Bench {site_id}")
    FieldMapping.objects.for_site(site).delete()
    for i in range(count):
        kind = kind_of(i)
        variable = CustomVariable.objects.create(
            site=site,
            key=f"v{i}",
            label=f"V{i}",
            type=kind,
            choices="VIP\nBasic\nTrial" if kind is FieldType.CHOICE else "",
        )
        FieldMapping.objects.create(
            site=site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            source=f"group_{i % 5}.field_{i}",
            target="custom",
            variable=variable,
            type=kind,
            required=i % 2 == 0,
            lower=True,
        )
    return site


def bench_apply(site: Site) -> None:
    claims = jwt_claims()

    def apply() -> object:
        return mapping_apply(
            site=site, audience=Audience.VISITOR, protocol=Protocol.JWT, claims=claims
        )

    assert len(apply().custom) == RULES  # type: ignore[attr-defined]

    def uncached() -> object:
        rules_forget(site_pk=site.pk)
        return apply()

    with CaptureQueriesContext(connection) as queries:
        uncached()
    print(
        f"mapping_apply, {RULES} mappings, rules cached ({settings.CACHES['default']['BACKEND']}"
        f"): {per_call_us(apply, 500):.0f} us"
    )
    print(
        f"mapping_apply, {RULES} mappings, uncached ({len(queries)} query on "
        f"{connection.vendor}): {per_call_us(uncached, 200):.0f} us"
    )
    print(
        f"  of which the version bump: {per_call_us(lambda: rules_forget(site_pk=0), 500):.0f} us"
    )


def bench_sign_in(site: Site, label: str) -> None:
    engine = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"])
    claims = jwt_claims()
    counter = iter(range(10**9))

    def one() -> None:
        request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
        request.session = engine.SessionStore()
        subject = f"visitor-{next(counter) % 50}"
        identity = VerifiedIdentity(
            site=site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            subject=subject,
            claims=claims,
        )
        sign_in(request, identity=identity)

    one()
    rules_forget(site_pk=site.pk)
    print(f"whole visitor sign_in(), {label}: {per_call_us(one, 200) / 1000:.2f} ms")


def main() -> None:
    bench_engine()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        site = site_with_mappings(90001, RULES)
        bare = site_with_mappings(90002, 0)
        bench_apply(site)
        bench_sign_in(site, f"{RULES} mappings (cached rules)")
        bench_sign_in(bare, "no mappings")
    finally:
        cache.delete_many([f"mapping:rules-version:{s.pk}" for s in Site.objects.all()])
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
