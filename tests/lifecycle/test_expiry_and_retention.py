"""Expiry warnings (admin row, email through a real SMTP receiver, webhook
event on a real worker) and retention.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.sessions.models import Session
from django.utils import timezone

from lifecycle.models import ExpiryWarning, JobRun, SiteRetention
from lifecycle.tasks import expiry_warnings_send, retention_purge
from sso.saml.metadata import idp_metadata_build
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from tenants.models import LoginEvent, Site, UsedToken
from tests.factories import LoginEventFactory, SiteOperatorFactory, UserFactory
from tests.lifecycle.kit import certificate_pem
from tests.webhooks.receiver import Receiver, wait_for
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import endpoint_create, event_emit


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's readiness check needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def test_certificate_seven_days_from_expiry_warns_by_admin_email_and_event(
    site: Site, smtp: Inbox, receiver: Receiver, celery_worker: None
) -> None:
    operator = UserFactory.create(email="ops@a.example", is_staff=True)
    SiteOperatorFactory.create(site=site, user=operator)
    endpoint_create(site=site, url=receiver.url, events=["certificate.expiring"])
    xml = idp_metadata_build(
        entity_id="https://idp.example/md",
        sso_url="https://idp.example/sso",
        sso_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        slo_url="",
        certificates=[certificate_pem(days=6.9)],
    )
    saml = SamlSettings(site=site, source=SamlSettings.Source.XML, metadata_xml=xml)
    saml_settings_save(saml)

    assert expiry_warnings_send.delay().get(timeout=30) == 1

    warning = ExpiryWarning.objects.get()
    assert warning.threshold_days == 7
    assert warning.subject.startswith("IdP signing certificate")
    [(recipients, content)] = smtp.messages
    assert recipients == ["ops@a.example"]
    message = email.message_from_string(content, policy=email.policy.default)
    assert "expires in 6 days" in str(message["Subject"])
    wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists())
    [got] = receiver.received
    document = json.loads(got.body)
    assert document["type"] == "certificate.expiring"
    assert document["data"]["days_left"] == 6
    # Once per threshold: the next run sends nothing new.
    assert expiry_warnings_send.delay().get(timeout=30) == 0
    assert len(smtp.messages) == 1
    assert JobRun.objects.get(name="expiry-warnings").last_result == "0"


def test_retention_removes_expired_and_old_rows_only(site: Site, other_site: Site) -> None:
    now = timezone.now()
    SiteRetention.objects.create(site=site, days=30)
    old_a = LoginEventFactory.create(site=site)
    old_b = LoginEventFactory.create(site=other_site)
    recent = LoginEventFactory.create(site=site)
    LoginEvent.objects.filter(pk__in=[old_a.pk, old_b.pk]).update(
        created_at=now - timedelta(days=40)
    )
    UsedToken.objects.create(site=site, kind="jwt_jti", value="gone", expires_at=now - timedelta(1))
    UsedToken.objects.create(site=site, kind="jwt_jti", value="kept", expires_at=now + timedelta(1))
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now - timedelta(1))
    endpoint_create(site=site, url="https://hooks.example/in")
    done = event_emit(site=site, kind="agent.signed_in", payload={})
    pending = event_emit(site=site, kind="agent.signed_in", payload={})
    WebhookDelivery.objects.filter(event=done).update(status="succeeded")
    WebhookEvent.objects.update(created_at=now - timedelta(days=40))

    counts = retention_purge.apply().get()

    assert counts == {"replay": 1, "sessions": 1, "captures": 0, "audit": 1, "deliveries": 1}
    assert set(LoginEvent.objects.values_list("pk", flat=True)) == {old_b.pk, recent.pk}  # 90 days
    assert list(UsedToken.objects.values_list("value", flat=True)) == ["kept"]
    assert list(WebhookEvent.objects.all()) == [pending]  # a pending delivery is never lost


def test_retention_strips_expired_troubleshooting_captures_and_keeps_the_refusal(
    site: Site,
) -> None:
    now = int(timezone.now().timestamp())
    capture = {"kind": "jwt", "text": "{}", "truncated": False}
    expired = LoginEventFactory.create(
        site=site,
        outcome=LoginEvent.Outcome.REFUSED,
        reason="jwt_expired",
        detail={"check": "exp", "capture": {**capture, "expires": now - 1}},
    )
    live = LoginEventFactory.create(
        site=site,
        outcome=LoginEvent.Outcome.REFUSED,
        reason="jwt_expired",
        detail={"capture": {**capture, "expires": now + 3600}},
    )

    counts = retention_purge.apply().get()

    assert counts["captures"] == 1
    expired.refresh_from_db()
    live.refresh_from_db()
    assert expired.detail == {"check": "exp"}
    assert expired.reason == "jwt_expired"
    assert live.detail["capture"]["expires"] == now + 3600
