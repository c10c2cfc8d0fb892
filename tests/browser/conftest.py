"""Browser fixtures: headless Debian Chromium driven by Playwright.

``browser``/``page``: a plain Chromium for the agent sign-in journeys.

The chat window's tests (``world``, ``visitor_context``...): the gateway on
pytest-django's live server (``localhost``), and the customer's shop on a
tiny HTTP server at ``127.0.0.1``: another site, so the chat window is a
cross-site iframe. Third-party cookies are blocked through the profile's
preferences (``profile.cookie_controls_mode = 1``, the "Block third-party
cookies" setting).

The shop server also plays the customer's visitor login page: it mints the
visitor JWT (HS256, the site's visitor secret) and redirects back to the
gateway's visitor callback, as a customer's own system would.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from django.db import connections
from django.test import override_settings

from campaigns.models import Campaign
from chats.models import RoutingRule
from mapping.models import CustomVariable, FieldMapping, Target
from tenants.models import Agent, Audience, Site
from tests.factories import AgentFactory, CampaignFactory, SiteFactory
from tests.fixtures.chats import jwt_settings_create
from tests.ops.servers import server_env, stream_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
BLOCK_THIRD_PARTY_COOKIES = {
    "profile": {"block_third_party_cookies": True, "cookie_controls_mode": 1}
}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VISITOR_SECRET = uuid.uuid4().hex + uuid.uuid4().hex

PEOPLE = {
    "vip": {"external_id": "vip-1", "name": "Vera VIP", "account": {"level": "VIP"}},
    "basic": {"external_id": "basic-1", "name": "Gus Basic", "account": {"level": "basic"}},
    "host": {"external_id": "host-7", "name": "Hana Host", "account": {"level": "VIP"}},
    "forger": {"external_id": "vip-1", "name": "Not Vera", "account": {"level": "VIP"}},
}


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread while it is
    # open; Django's async-safety check would then refuse the test's ORM use.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Connections the test opened while Playwright's loop ran are kept
        # under that loop's context; close them there, or the test database
        # cannot be dropped at the end of the run.
        connections.close_all()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def visitor_jwt(who: str) -> str:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 120, "jti": uuid.uuid4().hex, **PEOPLE[who]}
    claims["email"] = f"{claims['external_id']}@shop.example"
    # "forger" signs with a key of its own: the gateway must refuse it.
    secret = "forged-" + VISITOR_SECRET if who == "forger" else VISITOR_SECRET
    return jwt.encode(claims, secret, "HS256")


SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Outdoor shop</title>
<style>body{{font:16px system-ui,sans-serif;margin:2rem;background:#f3f6ee}}</style></head>
<body><h1>Outdoor shop</h1><p>Tents, boots and everything for the trail.</p>
<button id="host-signin" type="button">I am logged in to the shop: chat as me</button>
<script>
  document.getElementById("host-signin").addEventListener("click", function () {{
    window.SsoChat.signInWithJwt({token});
  }});
</script>
<script src="{gateway}/chat/loader.js" data-site="{site}" data-campaign="{campaign}" async></script>
</body></html>"""

LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop login</title></head>
<body style="font:16px system-ui,sans-serif;margin:2rem"><h1>Sign in to the shop</h1>
<p><a id="as-vip" href="/login/done?{vip}">Vera VIP</a></p>
<p><a id="as-basic" href="/login/done?{basic}">Gus Basic</a></p></body></html>"""


class ShopHandler(BaseHTTPRequestHandler):
    gateway = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: str = "", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/shop.html":
            token = visitor_jwt(query["who"]) if "who" in query else ""
            page = SHOP_PAGE.format(
                token=json.dumps(token),
                gateway=escape(self.gateway),
                site=escape(query["site"]),
                campaign=escape(query["campaign"]),
            )
            headers = {"Cross-Origin-Opener-Policy": "same-origin"} if "coop" in query else {}
            self._send(200, page, **headers)
        elif url.path == "/login":
            back = query.get("return_to", "")
            links = {w: urlencode({"who": w, "return_to": back}) for w in ("vip", "basic")}
            self._send(200, LOGIN_PAGE.format(**{k: escape(v) for k, v in links.items()}))
        elif url.path == "/login/done":
            back = query["return_to"]
            sep = "&" if "?" in back else "?"
            target = f"{back}{sep}{urlencode({'jwt': visitor_jwt(query['who'])})}"
            self._send(302, Location=target)
        else:
            self._send(404, "not found")


@pytest.fixture(scope="session")
def shop_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@dataclass
class World:
    """Site 10001 of the browser tests, its three campaigns and its shop."""

    site: Site
    gateway: str
    shop: str
    none: Campaign
    optional: Campaign
    required: Campaign
    agent: Agent

    def shop_url(self, campaign: Campaign, **extra: str) -> str:
        query = urlencode({"site": self.site.site_id, "campaign": campaign.pk, **extra})
        return f"{self.shop}/shop.html?{query}"


@pytest.fixture
def world(live_server: Any, shop_server: ThreadingHTTPServer) -> World:
    gateway = live_server.url
    shop = f"http://127.0.0.1:{shop_server.server_address[1]}"
    ShopHandler.gateway = gateway
    site = SiteFactory.create(site_id=10001, name="Outdoor shop", allowed_origins=shop)
    jwt_settings_create(
        site, audience=Audience.VISITOR, secret=VISITOR_SECRET, login_url=f"{shop}/login"
    )
    level = CustomVariable.objects.create(
        site=site, key="membership_level", label="Membership level", order=1
    )
    FieldMapping.objects.create(
        site=site,
        audience=Audience.VISITOR,
        protocol="jwt",
        source="account.level",
        target=Target.CUSTOM,
        variable=level,
        type="text",
    )
    survey = "topic|What is your question about?"
    campaigns = {
        mode: CampaignFactory.create(
            site=site,
            name=f"{mode.title()} campaign",
            signin_mode=mode,
            prechat_survey=mode != "required",
            survey_fields=survey,
        )
        for mode in ("none", "optional", "required")
    }
    for campaign in campaigns.values():
        RoutingRule.objects.create(
            site=site, campaign=campaign, field="membership_level", value="VIP", group="vip"
        )
    agent = AgentFactory.create(site=site, email="agent@shop.example", name="Alice Agent")
    return World(site=site, gateway=gateway, shop=shop, agent=agent, **campaigns)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """One Playwright per module: two sync Playwrights cannot run at once.

    Playwright's sync API keeps an event loop in this thread while it runs;
    the ORM calls the tests (and pytest-django's flushes) make meanwhile are
    plain synchronous ones, so Django's async guard is lifted for exactly
    that time, never for other modules or their subprocesses.
    """
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with playwright_sync.sync_playwright() as p:
            yield p
            connections.close_all()  # see ``browser``


@pytest.fixture
def visitor_context(playwright: Any) -> Iterator[Any]:
    """A fresh Chromium profile that blocks third-party cookies."""
    profile = Path(tempfile.mkdtemp(prefix="sso-chat-profile-"))
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(json.dumps(BLOCK_THIRD_PARTY_COOKIES))
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1100, "height": 760},
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def agent_browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], None]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take


@pytest.fixture
def stream(world: World) -> Iterator[str]:
    """A stream server (chats.stream) on its own origin (the live server has
    no nginx in front; the window's and the console's policies let them
    connect there), with the safety poll at ten minutes: only a push
    explains an update within seconds."""
    with (
        stream_server(server_env()) as url,
        override_settings(SSO_CHAT_STREAM=url, SSO_CHAT_SAFETY_POLL_S=600),
    ):
        yield url


def streams_open(url: str) -> int:
    """How many streams the stream server at ``url`` holds."""
    return int(requests.get(f"{url}/healthz", timeout=5).json()["streams"])
