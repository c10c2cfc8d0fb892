"""Every URL of the project, hostile inputs, never a server error (issue 10).

The URL patterns are enumerated from the resolver, so a new view is covered
without editing this file. Each concrete path is hit by a fixed set of
hostile requests (wrong methods, wrong content types, huge and deep bodies,
non-ASCII digits, NUL, lone surrogates, a body shorter than its
Content-Length), then hypothesis draws more values for the same classes. The
test fails on any 5xx and names every request that got one.

OWASP ASVS 4 V5.1 (input validation), V13 (API); SECURITY.md "Every input
parsed at one boundary".
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chats.services import chat_start
from chats.tokens import ChatCredential, chat_token_issue
from sso_site.signin.session import sign_in
from tenants.models import Agent, Site
from tests.conftest import identity_for, session_request
from tests.factories import AgentFactory, CampaignFactory, SiteFactory

# Values that broke a view once: digits of other scripts, out of range, NUL,
# lone surrogates (escaped: a URL or a form cannot carry one raw), look-alikes.
HOSTILE_VALUES = [
    "\u0661\u0662\u0663",  # Arabic-Indic digits: isdigit() and int() accept them
    "\U0001d7cf\U0001d7ce\U0001d7ce\U0001d7ce\U0001d7cf",  # mathematical bold digits
    "\u00b2",  # superscript two: isdigit() accepts it, int() does not
    "99999999999999999999999",
    "99999",
    "-1",
    "a\x00b",
    "\ud800",
    "\uff41\uff4c\uff49\uff43\uff45@a.example",  # fullwidth letters
    "al\u0131ce@a.example",  # dotless i
    "x" * 5000,
    "{}",
    "",
]
HOSTILE_PARAMS = [
    "campaign",
    "after",
    "site",
    "next",
    "return_to",
    "jwt",
    "created_at__year",
    "created_at__month",
    "created_at__day",
    "p",
    "o",
    "q",
    "e",
    "site__id__exact",
    "SAMLResponse",
    "RelayState",
    "_try_unsaved",
]
# Admin changelists: one parameter at a time, so no other one masks it.
ADMIN_SINGLE = [
    "created_at__year",
    "created_at__month",
    "created_at__day",
    "date_joined__year",
    "p",
    "o",
    "q",
]
DEEP_JSON = b"[" * 5000 + b"]" * 5000
JSON_BODIES = [
    DEEP_JSON,
    b'{"text": "a\\u0000b", "survey": {"q": "\\u0000"}, "code": "\\ud800"}',
    b'{"text": "\\ud800", "code": "x"}',
    b"\xff\xfe\xed\xa0\x80",  # not UTF-8; an encoded surrogate
    b'{"text": NaN}',
    b"[]",
    b"{" * 40 + b"}" * 40,
    b'{"text": "' + b"x" * 100_000 + b'"}',
]
METHODS = ["put", "patch", "delete", "options", "head", "trace"]


class _ShortBody(io.RawIOBase):
    """A request body that ends before its Content-Length (the client hung up)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError("client disconnected")


def _sample(converter: str, values: dict[str, str], name: str) -> str:
    return values.get(name, "1" if converter in {"int", ""} else "x")


def _concrete(regex: str, values: dict[str, str]) -> str:
    """Return a path matching ``regex`` (a pattern's regex), parameters filled."""
    text = regex.lstrip("^").removesuffix("\\Z").removesuffix("$")

    def group(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        if name in values:
            return values[name]
        alternatives = body.split("|")
        if len(alternatives) > 1 and all(re.fullmatch(r"[\w-]+", a) for a in alternatives):
            return alternatives[0]
        return "1"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, text)
    return "/" + text.replace("\\", "")


def url_paths(values: dict[str, str]) -> list[str]:
    """Return one concrete path per URL pattern of the project, from the resolver."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            regex = prefix + entry.pattern.regex.pattern.lstrip("^")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, regex.removesuffix("\\Z"))
            elif isinstance(entry, URLPattern):
                found.append(_concrete(regex, values))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@dataclass
class World:
    site: Site
    agent: Agent
    paths: list[str]
    overflow_paths: list[str] = field(default_factory=list)
    clients: dict[str, Client] = field(default_factory=dict)
    bearer: str = ""
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def client_for(self, path: str) -> Client:
        # Paths that would end the fuzzing sessions or delete the fixtures
        # (Django's own views) are hit anonymously.
        if any(word in path for word in ("logout", "delete", "password")):
            return self.clients["anonymous"]
        if path.startswith("/admin/"):
            return self.clients["admin"]
        if path.startswith("/console/") or path.startswith("/agent/"):
            return self.clients["agent"]
        return self.clients["anonymous"]

    def hit(self, method: str, path: str, label: str, **kwargs: Any) -> None:
        client = self.client_for(path)
        extra = {"HTTP_AUTHORIZATION": f"Bearer {self.bearer}"} if "/api/" in path else {}
        self.requests += 1
        response = getattr(client, method)(path, **kwargs, **extra)
        if response.status_code >= 500:
            self.failures.append(
                f"{method.upper()} {path[:120]} [{label}] -> {response.status_code}"
            )


@pytest.fixture
def world(db: None, django_user_model: Any) -> World:
    site = SiteFactory.create(site_id=10001, allowed_origins="https://shop.example")
    agent = AgentFactory.create(site=site, email="alice@a.example")
    campaign = CampaignFactory.create(site=site, prechat_survey=True)
    chat = chat_start(site=site, campaign=campaign, visitor=None)
    values = {
        "site_id": str(site.site_id),
        "campaign_id": str(campaign.pk),
        "chat_id": str(chat.pk),
        "object_id": str(site.pk),
        "app_label": "tenants",
    }
    world = World(site=site, agent=agent, paths=url_paths(values))
    # The same patterns with every parameter past any integer column's range.
    world.overflow_paths = url_paths(dict.fromkeys(values, "9" * 25) | {"app_label": "tenants"})
    world.bearer = chat_token_issue(ChatCredential(site.pk, campaign.pk, chat.pk, None))
    for name in ("anonymous", "agent", "admin"):
        world.clients[name] = Client(raise_request_exception=False)
    request = session_request()
    sign_in(request, identity=identity_for(agent))
    request.session.save()
    world.clients["agent"].cookies["sessionid"] = request.session.session_key or ""
    admin = django_user_model.objects.create_superuser("root", "root@a.example", "pw-123456789")
    world.clients["admin"].force_login(admin)
    return world


def hostile_requests(world: World, path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, label, client kwargs) of the fixed hostile set for ``path``.

    Admin pages are slow to render and share one code path per kind of view,
    so they get a subset of the query values (hypothesis draws the rest).
    """
    admin = path.startswith("/admin/")
    yield "get", "plain", {}
    for value in HOSTILE_VALUES[1::6] if admin else HOSTILE_VALUES:
        query = "&".join(f"{p}={quote(value, errors='surrogatepass')}" for p in HOSTILE_PARAMS)
        yield "get", f"query {value[:12]!r}", {"QUERY_STRING": query}
    yield "get", "bad percent-encoding", {"QUERY_STRING": "campaign=%FF%FE&after=%C0%AF"}
    if path.startswith("/admin/") and path.count("/") == 4:
        for param in ADMIN_SINGLE:
            for value in ("99999", "\u0661", "x\x00"):
                yield "get", f"{param}={value!r}", {"QUERY_STRING": f"{param}={quote(value)}"}
    form = dict.fromkeys(HOSTILE_PARAMS, HOSTILE_VALUES[0])
    form |= {"site_id": "\uff11\uff10\uff10\uff10\uff11", "text": "a\x00b", "answer": "\x00"}
    for sample in ("[" * 3000, '{"a": "\\ud800"}', "a.b.c")[: 1 if admin else 3]:
        form |= {"sample": sample, "tryit_sample": sample, "tryit_protocol": "jwt"}
        yield "post", f"hostile form {sample[:8]!r}", {"data": form, "QUERY_STRING": "site=x"}
    for body in JSON_BODIES[:2] if admin else JSON_BODIES:
        label = f"json {body[:16]!r}"
        yield "post", label, {"data": body, "content_type": "application/json"}
    yield (
        "post",
        "multipart without boundary",
        {"data": b"x", "content_type": "multipart/form-data"},
    )
    yield "post", "binary form", {"data": b"\xff\x00=\xfe", "content_type": "text/plain"}
    short = {"wsgi.input": _ShortBody(), "CONTENT_LENGTH": "1000"}
    yield (
        "post",
        "body shorter than Content-Length",
        {
            "data": b"",
            "content_type": "application/x-www-form-urlencoded",
            **short,
        },
    )
    for method in METHODS[:1] if admin else METHODS:
        yield method, "wrong method", {}


def test_every_url_pattern_is_enumerated(world: World) -> None:
    # The resolver's patterns, not a list kept by hand: these must be among them.
    for expected in ("/chat/10001/", "/sso/10001/agent/jwt/", "/admin/tenants/agent/"):
        assert any(path.startswith(expected) for path in world.paths), expected
    assert len(world.paths) > 50


def test_every_url_answers_hostile_inputs_without_a_server_error(world: World) -> None:
    started = time.monotonic()
    for path in world.paths:
        for method, label, kwargs in hostile_requests(world, path):
            world.hit(method, path, label, **kwargs)
    for path in world.overflow_paths:
        world.hit("get", path, "overflowing path parameters")
        world.hit("post", path, "overflowing path parameters", data={"text": "x"})
    elapsed = time.monotonic() - started
    print(f"fuzz: {world.requests} requests, {len(world.paths)} URLs, {elapsed:.1f}s")
    assert not world.failures, "\n".join(world.failures)
    # The sessions lived to the end: the admin and console were really reached.
    assert world.clients["admin"].get("/admin/tenants/site/").status_code == 200
    assert world.clients["agent"].get("/console/").status_code == 200


hostile_text = st.text(
    st.characters(codec=None, categories=None, exclude_categories=()), max_size=40
) | st.sampled_from(HOSTILE_VALUES)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hypothesis_draws_hostile_values_for_every_kind_of_url(world: World, data: Any) -> None:
    path = data.draw(st.sampled_from(world.paths), label="path")
    method = data.draw(st.sampled_from(["get", "post"]), label="method")
    params = data.draw(
        st.dictionaries(
            st.sampled_from([*HOSTILE_PARAMS, "text", "code"]), hostile_text, max_size=4
        )
    )
    if method == "get":
        query = "&".join(
            f"{quote(k)}={quote(v, errors='surrogatepass')}" for k, v in params.items()
        )
        world.hit("get", path, f"hypothesis {params!r}"[:80], QUERY_STRING=query)
    elif data.draw(st.booleans(), label="json"):
        body = repr(params).encode("utf-8", errors="surrogatepass")
        world.hit("post", path, "hypothesis json", data=body, content_type="application/json")
    else:
        safe = {
            k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            for k, v in params.items()
        }
        world.hit("post", path, "hypothesis form", data=safe)
    assert not world.failures, "\n".join(world.failures)
