"""Cost of the chat window's requests on PostgreSQL and Redis, through the
whole Django stack (test client): the 1.2 s poll of the window and of the
console, a visitor message, and the JWT handoff (verify, map, sign in, mint
a code) followed by the redeem. Run: ``python -m bench.chat_window``.
"""

from __future__ import annotations

import time
import uuid

from bench._setup import django_setup, report, timed


def main() -> None:
    django_setup()
    import jwt
    from django.db import connection

    # As in production (base settings): persistent connections, not the test
    # settings' one connection per request.
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.close()
    from django.test import Client

    from campaigns.models import Campaign
    from chats.models import Chat, Message
    from chats.services import chat_start
    from chats.tokens import ChatCredential, chat_token_issue
    from sso.jwt.models import JwtSettings
    from sso_site.secret_store import secret_encrypt, secret_fingerprint
    from sso_site.signin.identity import VerifiedIdentity
    from sso_site.signin.session import sign_in
    from tenants.models import Agent, Audience, Protocol, Site

    site, _ = Site.objects.get_or_create(site_id=90002, defaults={"name": "Bench chat"})
    campaign, _ = Campaign.objects.get_or_create(
        site=site, name="Bench", defaults={"signin_mode": "optional"}
    )
    secret = uuid.uuid4().hex * 2
    JwtSettings.objects.update_or_create(
        site=site,
        audience=Audience.VISITOR,
        defaults={
            "enabled": True,
            "login_url": "https://login.bench.example/",
            "algorithm": "HS256",
            "secret_encrypted": secret_encrypt(secret),
            "secret_fingerprint": secret_fingerprint(secret),
        },
    )
    Chat.objects.filter(site=site).delete()
    chat = chat_start(site=site, campaign=campaign, visitor=None)
    for n in range(20):
        Message.objects.create(site=site, chat=chat, sender="visitor", text=f"message {n}")
    last = Message.objects.filter(chat=chat).last()
    assert last is not None
    token = chat_token_issue(ChatCredential(site.pk, campaign.pk, chat.pk, None))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = f"/chat/{site.site_id}/{campaign.pk}/api/"
    client = Client()

    def poll() -> None:
        assert client.get(f"{base}poll/", {"after": last.pk}, **auth).status_code == 200

    def send() -> None:
        response = client.post(
            f"{base}send/", {"text": "hello"}, content_type="application/json", **auth
        )
        assert response.status_code == 200

    agent, _ = Agent.objects.get_or_create(site=site, email="bench-agent@bench.example")
    console = Client()
    from importlib import import_module

    from django.conf import settings
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    sign_in(
        request,
        identity=VerifiedIdentity(
            site=site, audience=Audience.AGENT, protocol=Protocol.JWT, subject=agent.email
        ),
    )
    request.session.save()
    console.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key or ""

    def console_poll() -> None:
        response = console.get(f"/console/chats/{chat.pk}/poll/", {"after": last.pk})
        assert response.status_code == 200

    def handoff() -> None:
        now = int(time.time())
        claims = {"iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, "external_id": "b-1"}
        response = client.post(
            f"/sso/{site.site_id}/visitor/jwt/",
            {"campaign": campaign.pk, "jwt": jwt.encode(claims, secret, "HS256")},
            HTTP_ACCEPT="application/json",
        )
        code = response.json()["code"]
        guest = chat_token_issue(ChatCredential(site.pk, campaign.pk, None, None))
        redeemed = client.post(
            f"{base}redeem/",
            {"code": code},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {guest}",
        )
        assert redeemed.status_code == 200

    from django.test.utils import CaptureQueriesContext

    for label, fn in [("window poll", poll), ("console poll", console_poll)]:
        with CaptureQueriesContext(connection) as queries:
            fn()
        print(f"queries per {label}: {len(queries)}")
    report("window poll (no new messages)", timed(poll, runs=500))
    report("console poll (agent, visitor panel)", timed(console_poll, runs=500))
    report("window send (one message)", timed(send, runs=300))
    report("JWT handoff: JSON callback + redeem", timed(handoff, runs=200))


if __name__ == "__main__":
    main()
