"""Profile the SAML ACS request: CPU per request, SQL statements, top items.

``python -m bench.saml_acs_profile [iterations] [--top N] [--sql] [--idp]`` with
``DATABASE_URL``/``REDIS_URL`` as for the tests (a throw-away ``test_*``
database is created and dropped; ``CONN_MAX_AGE`` defaults to 60 s, as in
production). Fresh signed responses are made first, not measured: for
SP-initiated sign-ins (a browser started each) and for IdP-initiated ones
(no SAML session at all, as a load generator sends them). Each is posted
once to the ACS through the whole middleware stack. Printed per flow: the
median CPU time (``time.process_time``, so other load on the machine does
not count) and wall time per request, the SQL statements of one request,
then the profile of the solicited flow (``--idp``: the IdP-initiated one,
as ``bench.signin_floor`` posts them): its top functions by own time and
the cumulative time of the ACS path's parts.
"""

from __future__ import annotations

import base64
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.test")
os.environ.setdefault("CONN_MAX_AGE", "60")

# The cumulative time of these functions is shown as "where the time goes".
PARTS = (
    ("SamlSessionMiddleware", "djangosaml2/middleware.py", "process_request"),
    ("ACS view", "sso/saml/views.py", "post"),
    ("  response verification", "sso/saml/acs.py", "saml_response_verify"),
    ("    signatures, schema, decryption", "sso/saml/verify.py", "response_signatures_verify"),
    ("    precheck (ours)", "sso/saml/checks.py", "response_precheck"),
    ("    assertion checks (ours)", "sso/saml/assertion_checks.py", "authn_response_check"),
    ("  identity + replay record", "sso/saml/identity.py", "identity_from_session_info"),
    ("  sign_in()", "sso_site/signin/session.py", "sign_in"),
    ("session save (Django)", "django/contrib/sessions/backends/db.py", "save"),
    ("SQL execute (all)", "django/db/backends/utils.py", "_execute"),
)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    iterations = int(args[0]) if args else 60
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 25
    if "--top" in sys.argv:
        args = [a for a in args if a != str(top)]
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with tempfile.TemporaryDirectory() as keydir:
            _report(
                Path(keydir),
                iterations,
                top=top,
                show_sql="--sql" in sys.argv,
                solicited="--idp" not in sys.argv,
            )
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _report(keydir: Path, iterations: int, *, top: int, show_sql: bool, solicited: bool) -> None:
    bench = _Bench(keydir)
    for flow in (True, False):
        label = "SP-initiated" if flow else "IdP-initiated"
        posts = [bench.prepare(solicited=flow) for _ in range(iterations + 5)]
        for post in posts[:5]:  # warm-up: caches, connection
            post()
        cpu, wall = [], []
        for post in posts[5:]:
            c0, w0 = time.process_time(), time.perf_counter()
            post()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        queries = bench.queries(solicited=flow)
        print(
            f"SAML ACS, {label}, median of {iterations}: CPU {statistics.median(cpu):.2f} ms, "
            f"wall {statistics.median(wall):.2f} ms, {len(queries)} SQL statements"
        )
        if show_sql:
            for sql in queries:
                print(f"    {sql[:150]}")
    posts = [bench.prepare(solicited=solicited) for _ in range(iterations)]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for post in posts:
        post()
    profiler.disable()
    _profile_print(profiler, iterations, top=top, solicited=solicited)


class _Bench:
    """One site, its IdP and agent; fresh responses on demand."""

    base = "http://testserver/sso/10001/agent/saml"

    def __init__(self, keydir: Path) -> None:
        from django.test import Client

        from devidp.saml_kit import idp_create, saml_settings_create
        from sso.saml.models import SamlSettings
        from tenants.models import Agent, Site

        self.site = Site.objects.create(site_id=10001, name="Bench", allowed_origins="")
        Agent.objects.create(site=self.site, email="alice@a.example")
        self.idp = idp_create(keydir, "idp-a")
        saml_settings_create(self.site, self.idp)
        SamlSettings.objects.filter(site=self.site).update(allow_idp_initiated=True)
        metadata = Client().get(f"/sso/{self.site.site_id}/agent/saml/metadata/")
        self.server = self.idp.server([metadata.content.decode()])

    def prepare(self, *, solicited: bool) -> Any:
        """Return a function that posts one fresh response to the ACS."""
        from django.test import Client

        from devidp.saml_kit import acs_post, sign_in_start

        client = Client()
        request_id = sign_in_start(client, self.site, self.idp) if solicited else None
        xml = self.idp.authn_response(
            self.server,
            sp_entity_id=f"{self.base}/metadata/",
            acs_url=f"{self.base}/acs/",
            email="alice@a.example",
            in_response_to=request_id,
        )
        encoded = base64.b64encode(xml.encode()).decode()

        def post() -> None:
            response = acs_post(client, self.site, encoded)
            if response.status_code != 302:
                raise RuntimeError(response.content[:800].decode(errors="replace"))

        return post

    def queries(self, *, solicited: bool) -> list[str]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        post = self.prepare(solicited=solicited)
        with CaptureQueriesContext(connection) as captured:
            post()
        return [q["sql"] for q in captured.captured_queries]


def _profile_print(
    profiler: cProfile.Profile, iterations: int, *, top: int, solicited: bool
) -> None:
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    label = "SP-initiated" if solicited else "IdP-initiated"
    print(f"\nProfile of {iterations} {label} ACS requests (CPU ms per request):")
    print(f"  total {total * 1000 / iterations:.2f}")
    for label, path, name in PARTS:
        cumulative = sum(
            ct
            for (file, _, func), (_, _, _, ct, _) in raw.items()
            if func == name and file.endswith(path)
        )
        if cumulative:
            print(f"  {label:<44} {cumulative * 1000 / iterations:7.2f}")
    print(f"\nTop {top} by own time (ms per request):")
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (file, line, func), (_, calls, tt, ct, _) in ranked:
        where = _short(file)
        print(
            f"  {tt * 1000 / iterations:6.3f} own {ct * 1000 / iterations:7.3f} cum "
            f"{calls / iterations:7.1f}x  {where}:{line} {func}"
        )
    if os.environ.get("PROFILE_CUMULATIVE"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())


def _short(file: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    here = str(Path(__file__).resolve().parent.parent) + "/"
    return file.removeprefix(here)


if __name__ == "__main__":
    main()
