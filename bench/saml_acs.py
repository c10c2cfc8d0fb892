"""Time one SAML ACS request, in-process, on the real database.

``python -m bench.saml_acs [iterations]`` with ``DATABASE_URL``/``REDIS_URL``
as for the tests (a throw-away ``test_*`` database is created and dropped).
Each iteration: a browser starts a sign-in, a pysaml2 IdP answers it (not
timed), then the POST to the ACS is timed: parse, verify the signed
assertion, replay store, session layer, response. ``bench.saml_acs_profile``
gives the CPU time and a profile of the same request. Printed: the median with
the SP configuration cached (the normal case) and with it rebuilt on every
request (the cost djangosaml2's default loader pays).
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.test")


def main() -> None:
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        cached, queries, parse_ms, checks_ms = _run(iterations, rebuild=False)
        rebuilt, _, _, _ = _run(max(iterations // 5, 5), rebuild=True)
        version_us = _version_cost()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"SAML ACS request, median of {iterations}: {cached:.1f} ms (SP config cached)")
    print(f"  of which schema, signatures and decryption (xmlsec): {parse_ms:.2f} ms")
    print(f"  of which parsing and our explicit checks: {checks_ms:.2f} ms")
    print(f"SAML ACS request, SP config rebuilt per request: {rebuilt:.1f} ms")
    print(f"SQL statements per ACS request: {queries}")
    print(f"SP config cache key (digest of the settings row): {version_us:.1f} us")


def _run(iterations: int, *, rebuild: bool) -> tuple[float, int, float, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from devidp.saml_kit import acs_post, idp_create, saml_settings_create, sign_in_start
    from sso.saml.config import sp_config_cache_clear
    from tenants.models import Agent, Site

    Site.objects.all().delete()
    site = Site.objects.create(site_id=10001, name="Bench", allowed_origins="")
    Agent.objects.create(site=site, email="alice@a.example")
    with tempfile.TemporaryDirectory() as keydir:
        idp = idp_create(Path(keydir), "idp-a")
        saml_settings_create(site, idp)
        sp_metadata = Client().get(f"/sso/{site.site_id}/agent/saml/metadata/").content.decode()
        server = idp.server([sp_metadata])
        base = "http://testserver/sso/10001/agent/saml"
        timings = []
        for _ in range(iterations + 3):
            client = Client()
            request_id = sign_in_start(client, site, idp)
            xml = idp.authn_response(
                server,
                sp_entity_id=f"{base}/metadata/",
                acs_url=f"{base}/acs/",
                email="alice@a.example",
                in_response_to=request_id,
            )
            encoded = base64.b64encode(xml.encode()).decode()
            if rebuild:
                sp_config_cache_clear()
            start = time.perf_counter()
            response = acs_post(client, site, encoded)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 302, response.content[:500]
        # Once more, untimed, counting the SQL queries.
        client = Client()
        request_id = sign_in_start(client, site, idp)
        xml = idp.authn_response(
            server,
            sp_entity_id=f"{base}/metadata/",
            acs_url=f"{base}/acs/",
            email="alice@a.example",
            in_response_to=request_id,
        )
        encoded = base64.b64encode(xml.encode()).decode()
        with CaptureQueriesContext(connection) as queries:
            acs_post(client, site, encoded)
        parse_ms, checks_ms = _parse_only(site, encoded, request_id, iterations)
    # The first requests warm caches up.
    return statistics.median(timings[3:]), len(queries.captured_queries), parse_ms, checks_ms


def _parse_only(
    site: object, encoded: str, request_id: str, iterations: int
) -> tuple[float, float]:
    """Return the medians of the signature checks and decryption alone
    (cached config), and of our checks before and after them.
    """
    import datetime as dt

    from django.test import RequestFactory
    from django.utils import timezone

    from sso.saml.assertion_checks import Expected, authn_response_check
    from sso.saml.checks import response_precheck
    from sso.saml.config import saml_settings_get, sp_config_get
    from sso.saml.verify import keys_for, response_signatures_verify
    from tenants.models import Audience

    settings = saml_settings_get(site=site, audience=Audience.AGENT)
    assert settings is not None
    conf = sp_config_get(RequestFactory().get("/"), settings=settings)
    keys = keys_for(conf, idp_entity_id=settings.idp_entity_id)
    timings, checks = [], []
    base = "http://testserver/sso/10001/agent/saml"
    for _ in range(iterations):
        start = time.perf_counter()
        now = timezone.now()
        prechecked = response_precheck(
            encoded,
            acs_url=f"{base}/acs/",
            allow_sha1=False,
            allow_unsolicited=False,
            outstanding={request_id: ""},
            now=now,
            max_age=dt.timedelta(minutes=5),
        )
        precheck_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        signed = response_signatures_verify(
            prechecked.root, idp_entity_id=settings.idp_entity_id, keys=keys, allow_sha1=False
        )
        timings.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        authn_response_check(
            signed.root,
            signed.assertion,
            expected=Expected(
                acs_url=f"{base}/acs/",
                sp_entity_id=f"{base}/metadata/",
                idp_entity_id=settings.idp_entity_id,
                max_age=dt.timedelta(minutes=5),
                skew=dt.timedelta(seconds=60),
                now=now,
            ),
        )
        checks.append(precheck_ms + (time.perf_counter() - start) * 1000)
    return statistics.median(timings), statistics.median(checks)


def _version_cost(rounds: int = 2000) -> float:
    """Return the median cost, in microseconds, of the settings' version."""
    from sso.saml.models import SamlSettings

    settings = SamlSettings.objects.get()
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        settings.version  # noqa: B018
        timings.append((time.perf_counter() - start) * 1e6)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
