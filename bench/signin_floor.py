"""Agent sign-in against the floor: the project's JWT and SAML sign-ins next
to a bare Django app that does the same cryptography and nothing else.

``python -m bench.signin_floor`` (part of ``make bench``), on the PostgreSQL
of ``DATABASE_URL`` (``sso_bench`` by default) and the Redis of
``REDIS_URL``. Both apps run in gunicorn with 2 sync workers on the same
database: the project on its production settings (rate limits raised: this
measures throughput), the floor (``bench/floor/``) on its own. wrk posts
fresh single-use tokens and signed Responses, made before each run, at 1 and
8 connections, in interleaved rounds (project, floor, project, floor...).
Only a 302 to /console/ that sets the session cookie counts as a sign-in.

Printed: sign-ins per second, p50 and p99 at 1 and 8 clients, and the
project's ratio to the floor; then the project's rate with sign-ins spread
over 1,000 of 10,000 sites against one site's, and the SP configuration
cache's cost per site. The SAML responses are IdP-initiated (the site allows
it): one POST per sign-in, the same for the floor.

Also printed: CPU per sign-in of every process that serves it (the
gunicorn master and workers, their PostgreSQL backends, PostgreSQL's WAL
writer and Redis), from /proc: at 8 clients the cores are saturated, so the
ratio of the rates follows the ratio of these costs. Redis and the WAL
writer are shared with whatever else runs on the machine: on a busy one
that column is an upper bound.

Environment: ``SIGNIN_SECONDS`` (5) per run, ``SIGNIN_ROUNDS`` (2),
``SIGNIN_SITES`` (10000), ``SIGNIN_SPREAD`` (1000; 0 skips that part),
``SIGNIN_WARM`` (6 warm-up sign-ins per spread site) and
``SIGNIN_PATHS`` (``jwt,saml``; one of them measures only that path).
"""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-" + "s" * 50
os.environ["SECRET_KEY"] = SECRET_KEY

from bench._setup import django_setup  # noqa: E402
from bench._signin_kit import SamlSigner, SamlTarget, jwt_body  # noqa: E402

SITE_ID = 90201
MANY_BASE = 300_000
EMAIL = "agent@signin.bench.example"
LUA = Path(__file__).with_name("signin_floor.lua")
# A first guess at sign-ins per second, to size the bodies of the warm-up;
# later runs size them from the best rate measured so far on that path.
GUESS = 300.0
WARM_SPREAD = int(os.environ.get("SIGNIN_WARM", "6"))


@dataclass
class Side:
    """One server under test."""

    name: str
    port: int
    cookie: str  # the session cookie a sign-in must set
    jwt_path: str
    saml: SamlTarget
    pid: int = 0  # the gunicorn master, once serving
    results: dict[tuple[str, int], list[dict[str, float]]] = field(default_factory=dict)


@dataclass
class Kit:
    """What the bodies are made from."""

    jwt_key: Any
    signer: SamlSigner
    template: Callable[[], str]  # an unsigned Response, fresh times
    placeholder: SamlTarget


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fixtures(keydir: Path) -> tuple[Any, Any, Any]:
    """Create the bench site, its agent, its JWT and SAML settings, the
    floor's user and replay table; return (IdP, JWT private key, site).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.contrib.auth import get_user_model
    from django.db import connection

    from devidp.saml_kit import idp_create, saml_settings_create
    from sso.jwt.models import JwtSettings
    from sso.saml.models import SamlSettings
    from tenants.models import Agent, Audience, Site

    idp = idp_create(keydir, "idp-bench")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (keydir / "jwt.pub").write_bytes(public_pem)
    site, _ = Site.objects.get_or_create(site_id=SITE_ID, defaults={"name": "Bench sign-in"})
    Agent.objects.get_or_create(site=site, email=EMAIL)
    SamlSettings.objects.filter(site=site).delete()
    saml_settings_create(site, idp, allow_idp_initiated=True)
    JwtSettings.objects.update_or_create(
        site=site,
        audience=Audience.AGENT,
        defaults={
            "enabled": True,
            "login_url": "https://login.bench.example/",
            "algorithm": "RS256",
            "public_key": public_pem.decode(),
            "expected_issuer": "bench",
            "expected_audience": "sso",
        },
    )
    get_user_model().objects.get_or_create(username=EMAIL, defaults={"email": EMAIL})
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_replay"
            " (key varchar(200) PRIMARY KEY, expires_at timestamptz NOT NULL)"
        )
    return idp, private, site


def sites_many(site: Any, total: int, spread: int) -> list[int]:
    """Make ``total`` sites (bulk), the first ``spread`` of them with the
    bench site's JWT and SAML settings and an agent; return their site IDs.
    """
    from django.db import transaction

    from sso.jwt.models import JwtSettings
    from sso.saml.models import SamlSettings
    from tenants.models import Agent, Site

    wanted = range(MANY_BASE, MANY_BASE + total)
    have = set(Site.objects.filter(site_id__in=wanted).values_list("site_id", flat=True))
    Site.objects.bulk_create(
        [Site(site_id=n, name=f"Bench site {n}") for n in wanted if n not in have],
        batch_size=2000,
    )
    sites = list(Site.objects.filter(site_id__in=wanted[:spread]).order_by("site_id"))
    with transaction.atomic():
        for model in (SamlSettings, JwtSettings):
            template = model.objects.get(site=site)
            model.objects.filter(site__in=sites).delete()
            copies = []
            for other in sites:
                values = {
                    f.attname: getattr(template, f.attname) for f in model._meta.concrete_fields
                }
                values.update(id=None, site_id=other.pk)
                copies.append(model(**values))
            model.objects.bulk_create(copies, batch_size=500)
        have_agent = set(Agent.objects.filter(site__in=sites).values_list("site_id", flat=True))
        for other in sites:
            if other.pk not in have_agent:
                # save(), not bulk_create: it derives the identity key.
                Agent(site=other, email=_many_email(other.site_id)).save()
    return [s.site_id for s in sites]


def _many_email(site_id: int) -> str:
    return f"agent@{site_id}.bench.example"


@contextmanager
def serving(app: str, port: int, env: dict[str, str], probe: str) -> Iterator[int]:
    """Run ``app`` in gunicorn, 2 sync workers, as deploy/serve.py runs the
    project (without its worker recycling: this measures a steady state).
    """
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, app, "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    command += ["--timeout", "30", "--graceful-timeout", "10", "--no-control-socket"]
    command += ["--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own command)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"{app} did not come up") from None
                time.sleep(0.3)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def bodies(kit: Kit, side: Side, path: str, count: int, targets: list[tuple[str, str]]) -> str:
    """Write ``count`` fresh bodies for ``side`` into a file; return its name.

    ``targets``: (site ID, email) to spread the sign-ins over; empty: the
    side's own one.
    """
    lines = []
    template = kit.template() if path == "saml" else ""
    for _ in range(count):
        site_id, email = random.choice(targets) if targets else (None, EMAIL)
        if path == "jwt":
            url = side.jwt_path if site_id is None else f"/sso/{site_id}/agent/jwt/"
            lines.append(f"{url} {jwt_body(kit.jwt_key, email)}")
        else:
            target = side.saml if site_id is None else _site_target(side, site_id, email)
            lines.append(f"{target.path} {kit.signer.body(template, target, kit.placeholder)}")
    handle, name = tempfile.mkstemp(prefix="signin-", suffix=".txt")
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(lines) + "\n")
    return name


def _site_target(side: Side, site_id: int | str, email: str) -> SamlTarget:
    base = f"http://127.0.0.1:{side.port}/sso/{site_id}/agent/saml"
    return SamlTarget(f"/sso/{site_id}/agent/saml/acs/", f"{base}/acs/", f"{base}/metadata/", email)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> tuple[int, float] | None:
    """Return (parent pid, CPU seconds) of process ``pid``, None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def serving_cpu(server_pid: int, database: str) -> dict[str, float]:
    """Return the CPU seconds used so far by each process serving sign-ins:
    the gunicorn tree of ``server_pid``, PostgreSQL backends of ``database``,
    the WAL writer and Redis, by process ID. Empty where /proc is not there.
    Compare two readings with ``cpu_since``.
    """
    total: dict[str, float] = {}
    parents: dict[str, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(entry.name)
        if stat is not None:
            parents[entry.name] = stat
    for pid, (ppid, cpu) in parents.items():
        if int(pid) == server_pid or ppid == server_pid:
            total[pid] = cpu
            continue
        name = _cmdline(pid)
        backend = name.startswith("postgres:") and (f" {database} " in name or "walwriter" in name)
        if backend or name.startswith("redis-server"):
            total[pid] = cpu
    return total


def cpu_since(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU seconds used between two ``serving_cpu`` readings, by the processes
    alive at the second: a process that ended in between (a database
    connection closed) takes its time with it, rather than making it negative.
    """
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def wrk(side: Side, body_file: str, connections: int, seconds: float) -> dict[str, float]:
    """Run wrk against ``side``; return sign-ins/s, p50, p99 (ms), counts and
    CPU ms per sign-in of the processes that serve it.
    """
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    cpu_before = serving_cpu(side.pid, database)
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--timeout", "30s", "-s", str(LUA), f"http://127.0.0.1:{side.port}"]
    command += ["--", body_file, side.cookie + "="]
    done = subprocess.run(  # noqa: S603 (our own command)
        command, capture_output=True, text=True, check=False, timeout=seconds + 120
    )
    cpu = cpu_since(cpu_before, serving_cpu(side.pid, database))
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk said: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(line.removeprefix("RESULT "))
    elapsed = raw["duration_us"] / 1e6
    return {
        "rate": raw["ok"] / elapsed,
        "p50": raw["p50_us"] / 1e3,
        "p99": raw["p99_us"] / 1e3,
        "ok": raw["ok"],
        "errors": raw["bad"] + raw["socket_errors"],
        "exhausted": raw["exhausted"],
        "cpu": cpu * 1e3 / max(raw["ok"], 1),
    }


def measure(
    kit: Kit,
    side: Side,
    path: str,
    connections: int,
    seconds: float,
    *,
    key: tuple[str, int] | None = None,
    targets: list[tuple[str, str]] | None = None,
) -> dict[str, float]:
    """Make the bodies, run wrk, keep and return the result."""
    key = key or (path, connections)
    # The best rate seen on this path so far (warm-up included), never below
    # the first guess: a rate measured on a busy moment of the machine
    # underestimates a quiet one, and a run that uses up its bodies only
    # gives a lower bound. More margin before this run's own first figure.
    past = [r for k, rs in side.results.items() if path in k[0] for r in rs]
    rate = max([GUESS, *(r["rate"] for r in past)])
    margin = 2.0 if key in side.results else 3.0
    count = int(max(rate, 20) * seconds * margin) + 50
    name = bodies(kit, side, path, count, targets or [])
    try:
        result = wrk(side, name, connections, seconds)
    finally:
        os.unlink(name)
    side.results.setdefault(key, []).append(result)
    return result


def warm_up(kit: Kit, side: Side, path: str, count: int, targets: list[tuple[str, str]]) -> None:
    """Post ``count`` fresh bodies from 8 threads, untimed."""
    name = bodies(kit, side, path, count, targets)
    lines = Path(name).read_text().splitlines()
    os.unlink(name)

    def post(line: str) -> int:
        url, body = line.split(" ", 1)
        conn = http.client.HTTPConnection("127.0.0.1", side.port, timeout=60)
        try:
            conn.request("POST", url, body, {"Content-Type": "application/x-www-form-urlencoded"})
            return conn.getresponse().status
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, lines))
    failed = sum(status != 302 for status in statuses)
    if failed:
        print(f"warm-up: {failed} of {len(lines)} {path} sign-ins failed", file=sys.stderr)


def median(results: list[dict[str, float]], what: str) -> float:
    return statistics.median(r[what] for r in results)


def report(project: Side, floor: Side, rounds: int, seconds: float, paths: tuple[str, ...]) -> None:
    print(
        f"\nagent sign-ins, gunicorn 2 sync workers each,"
        f" {rounds} interleaved rounds of {seconds:g} s"
    )
    print(
        f"{'path':<5} {'clients':>7} {'project/s':>10} {'floor/s':>8} {'ratio':>6}"
        f" {'p50 ms':>13} {'p99 ms':>13} {'CPU ms':>11} {'errors':>7}"
    )
    for path in paths:
        for connections in (1, 8):
            mine, base = project.results[(path, connections)], floor.results[(path, connections)]
            ratio = median(mine, "rate") / max(median(base, "rate"), 1e-9)
            ratios = [m["rate"] / max(b["rate"], 1e-9) for m, b in zip(mine, base, strict=True)]
            errors = sum(int(r["errors"]) for r in mine + base)
            print(
                f"{path:<5} {connections:>7}"
                f" {median(mine, 'rate'):10.1f} {median(base, 'rate'):8.1f}"
                f" {ratio:6.2f} {median(mine, 'p50'):6.1f}/{median(base, 'p50'):<6.1f}"
                f" {median(mine, 'p99'):6.1f}/{median(base, 'p99'):<6.1f}"
                f" {median(mine, 'cpu'):5.2f}/{median(base, 'cpu'):<5.2f} {errors:7d}"
                f"   (ratio per round {min(ratios):.2f}-{max(ratios):.2f})"
            )
    print(
        "p50, p99 and CPU (all serving processes, per sign-in): project/floor;"
        " medians of the rounds"
    )
    if any(
        r["exhausted"]
        for results in (project.results, floor.results)
        for rs in results.values()
        for r in rs
    ):
        print("NOTE: a run used up its fresh bodies (its replays count as errors): a lower bound")


def sp_cache_cost(site_ids: list[int], sample: int = 40) -> None:
    """Print the SP configuration's build time and memory per cached site."""
    import tracemalloc

    from django.test import RequestFactory

    from sso.saml import config
    from sso.saml.models import SamlSettings

    rows = list(
        SamlSettings.objects.filter(site__site_id__in=site_ids[:sample]).select_related("site")
    )
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    config.sp_config_cache_clear()
    started = time.perf_counter()
    for row in rows:
        config.sp_config_get(request, settings=row)
    build_ms = (time.perf_counter() - started) * 1e3 / len(rows)
    config.sp_config_cache_clear()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for row in rows:
        config.sp_config_get(request, settings=row)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    per_site = held / len(rows)
    charged = config.sp_config_bytes(rows[0])
    budget = config.sp_cache_budget()
    print(
        f"SP configuration cache: {build_ms:.1f} ms to build one site's;"
        f" {per_site / 1024:.0f} KB held per cached site (tracemalloc, {len(rows)} sites,"
        f" {len(rows[0].idp_metadata_xml)} B of IdP metadata), {charged / 1024:.0f} KB charged;"
        f" budget {budget / 2**20:.0f} MB per process = {budget // charged} such sites"
    )
    config.sp_config_cache_clear()


def main() -> int:
    django_setup()
    from django.conf import settings

    seconds = float(os.environ.get("SIGNIN_SECONDS", "5"))
    rounds = int(os.environ.get("SIGNIN_ROUNDS", "2"))
    total = int(os.environ.get("SIGNIN_SITES", "10000"))
    spread = min(int(os.environ.get("SIGNIN_SPREAD", "1000")), total)
    paths = tuple(p for p in ("jwt", "saml") if p in os.environ.get("SIGNIN_PATHS", "jwt,saml"))
    if shutil.which("wrk") is None:
        print("signin_floor: wrk is not installed (make setup installs it)", file=sys.stderr)
        return 1
    keydir = Path(tempfile.mkdtemp(prefix="signin-bench-"))
    try:
        return _run(keydir, settings, seconds, rounds, total, spread, paths or ("jwt", "saml"))
    finally:
        shutil.rmtree(keydir, ignore_errors=True)


def _run(
    keydir: Path,
    settings: Any,
    seconds: float,
    rounds: int,
    total: int,
    spread: int,
    paths: tuple[str, ...],
) -> int:
    idp, jwt_key, site = fixtures(keydir)
    many = sites_many(site, total, spread) if spread else []
    pport, fport = free_port(), free_port()
    pbase = f"http://127.0.0.1:{pport}/sso/{SITE_ID}/agent/saml"
    project = Side(
        "project",
        pport,
        "sessionid",
        f"/sso/{SITE_ID}/agent/jwt/",
        SamlTarget(f"/sso/{SITE_ID}/agent/saml/acs/", f"{pbase}/acs/", f"{pbase}/metadata/", EMAIL),
    )
    floor = Side(
        "floor",
        fport,
        "sessionid",
        "/jwt/",
        SamlTarget(
            "/samlfast/",
            f"http://127.0.0.1:{fport}/samlfast/",
            f"http://127.0.0.1:{fport}/sp/",
            EMAIL,
        ),
    )
    common = {**os.environ, "SECRET_KEY": SECRET_KEY, "DATABASE_URL": os.environ["DATABASE_URL"]}
    project_env = {
        **common,
        "DJANGO_SETTINGS_MODULE": "sso_site.settings.production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": str(settings.CACHES["default"]["LOCATION"]),
        "SSO_RATE_SIGNIN_IP": "100000000/m",
        "SSO_RATE_SIGNIN_SITE": "100000000/m",
    }
    floor_env = {
        **common,
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
        "FLOOR_JWT_KEY": str(keydir / "jwt.pub"),
        "FLOOR_IDP_CERT": idp.cert_file,
        "FLOOR_IDP_ENTITY_ID": idp.entity_id,
        "FLOOR_SP_ENTITY_ID": floor.saml.sp_entity_id,
        "FLOOR_ACS_URL": floor.saml.acs_url,
    }
    with (
        serving("sso_site.wsgi:application", pport, project_env, "/healthz") as project.pid,
        serving("bench.floor.wsgi:application", fport, floor_env, "/jwt/") as floor.pid,
    ):
        kit = _kit(idp, jwt_key, project)
        sample = kit.signer.body(kit.template(), project.saml, kit.placeholder)
        size = len(base64.b64decode(urllib.parse.unquote(sample.removeprefix("SAMLResponse="))))
        print(f"SAML: IdP-initiated Responses of {size} bytes, Response and Assertion signed")
        for side in (project, floor):  # warm up: imports, connections, caches
            for path in paths:
                result = measure(kit, side, path, 8, 1.0, key=(f"warm-up {path}", 8))
                if result["ok"] == 0:
                    print(f"signin_floor: no {side.name} {path} sign-in succeeded", file=sys.stderr)
                    return 1
        for _ in range(rounds):
            for path in paths:
                for connections in (1, 8):
                    for side in (project, floor):
                        measure(kit, side, path, connections, seconds)
        report(project, floor, rounds, seconds, paths)
        if many:
            _spread(kit, project, many, total, rounds, seconds, paths)
    return 0


def _kit(idp: Any, jwt_key: Any, project: Side) -> Kit:
    """Return the body makers; the template is the dev IdP's Response to
    the project's bench site, with attributes to reach the usual ~8 KB.
    """
    metadata = urllib.request.urlopen(project.saml.sp_entity_id, timeout=10).read().decode()  # noqa: S310
    server = idp.server([metadata])
    attributes = {
        "mail": [EMAIL],
        "givenName": ["Bench"],
        "sn": ["Agent"],
        "displayName": ["Bench Agent"],
        "eduPersonAffiliation": ["member", "staff"],
        "title": ["Support engineer"],
    }

    def template() -> str:
        return idp.authn_response(
            server,
            sp_entity_id=project.saml.sp_entity_id,
            acs_url=project.saml.acs_url,
            email=EMAIL,
            in_response_to=None,
            attributes=attributes,
            sign_assertion=False,
        )

    return Kit(jwt_key, SamlSigner(idp.key_file, idp.cert_file), template, project.saml)


def _spread(
    kit: Kit,
    project: Side,
    many: list[int],
    total: int,
    rounds: int,
    seconds: float,
    paths: tuple[str, ...],
) -> None:
    targets = [(str(n), _many_email(n)) for n in many]
    # Warm up, as a server that sees these sites all day would be: each site
    # WARM_SPREAD times, so that each of the two workers has built each
    # site's configuration (all but 1.6% of them, at 6) before the rounds.
    for path in paths:
        warm_up(kit, project, path, WARM_SPREAD * len(targets), targets)
    for _ in range(rounds):
        for path in paths:
            measure(kit, project, path, 8, seconds, key=(f"{path} one site", 8))
            measure(kit, project, path, 8, seconds, key=(f"{path} spread", 8), targets=targets)
    print(
        f"\nthe project at 8 clients: one site, and sign-ins spread over"
        f" {len(many)} of {total} sites"
    )
    print(
        f"{'path':<5} {'one site/s':>10} {'spread/s':>9} {'ratio':>6} {'p99 ms':>13} {'errors':>7}"
    )
    for path in paths:
        one, spread = (
            project.results[(f"{path} one site", 8)],
            project.results[(f"{path} spread", 8)],
        )
        errors = sum(int(r["errors"]) for r in one + spread)
        print(
            f"{path:<5} {median(one, 'rate'):10.1f} {median(spread, 'rate'):9.1f}"
            f" {median(spread, 'rate') / max(median(one, 'rate'), 1e-9):6.2f}"
            f" {median(one, 'p99'):6.1f}/{median(spread, 'p99'):<6.1f} {errors:7d}"
        )
    if "saml" in paths:
        sp_cache_cost(many)


if __name__ == "__main__":
    sys.exit(main())
