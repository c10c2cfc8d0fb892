"""Read-only records: visitors, chats, login events, the change log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Visitor
from chats.models import Chat
from sso_site.signin.refusals import RefusalReason
from tenants.models import LoginEvent, Site
from tests.api.conftest import results
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_visitors_and_chats_are_read_only_and_scoped(
    api: APIClient, site: Site, other_site: Site
) -> None:
    mine = Visitor.objects.create(site=site, external_id="v-1", custom={"tier": "gold"})
    theirs = Visitor.objects.create(site=other_site, external_id="v-2")
    chat = Chat.objects.create(site=site, campaign=CampaignFactory.create(site=site), visitor=mine)
    Chat.objects.create(
        site=other_site, campaign=CampaignFactory.create(site=other_site), visitor=theirs
    )
    visitors = results(api.get("/api/v1/visitors/"))
    assert [(v["external_id"], v["custom"]) for v in visitors] == [("v-1", {"tier": "gold"})]
    assert api.get(f"/api/v1/visitors/{theirs.pk}/").status_code == 404
    assert [c["id"] for c in results(api.get("/api/v1/chats/"))] == [chat.pk]
    assert results(api.get(f"/api/v1/chats/?visitor={theirs.pk}")) == []
    assert results(api.get("/api/v1/chats/?status=waiting"))[0]["visitor"] == mine.pk
    assert api.post("/api/v1/visitors/", {"external_id": "x"}, format="json").status_code == 405
    assert api.delete(f"/api/v1/chats/{chat.pk}/").status_code == 405


def _event(site: Site | None, minutes_ago: int, **fields: str) -> LoginEvent:
    event = LoginEvent.objects.create(site=site, **{"audience": "agent", **fields})
    LoginEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return event


def test_login_events_filters(api: APIClient, site: Site, other_site: Site) -> None:
    _event(site, 30, outcome="success", protocol="saml")
    refused = _event(site, 20, outcome="refused", protocol="jwt", reason=RefusalReason.JWT_EXPIRED)
    _event(
        site,
        10,
        outcome="refused",
        protocol="saml",
        reason=RefusalReason.REPLAY,
        audience="visitor",
    )
    _event(other_site, 5, outcome="refused", protocol="jwt", reason=RefusalReason.JWT_EXPIRED)
    _event(None, 5, outcome="refused", reason=RefusalReason.SITE_DISABLED)

    def reasons(query: str) -> list[str]:
        return [e["reason"] for e in results(api.get(f"/api/v1/login-events/{query}"))]

    assert reasons("") == ["replay", "jwt_expired", ""]  # newest first, own site only
    assert reasons("?outcome=refused") == ["replay", "jwt_expired"]
    assert reasons(f"?reason={RefusalReason.JWT_EXPIRED}") == ["jwt_expired"]
    assert reasons("?audience=visitor") == ["replay"]
    assert reasons("?protocol=jwt") == ["jwt_expired"]
    after = (timezone.now() - timedelta(minutes=25)).isoformat()
    before = (timezone.now() - timedelta(minutes=15)).isoformat()
    assert reasons(f"?after={after.replace('+', '%2B')}&before={before.replace('+', '%2B')}") == [
        "jwt_expired"
    ]
    assert api.get(f"/api/v1/login-events/{refused.pk}/").json()["protocol"] == "jwt"
    assert api.get("/api/v1/login-events/?outcome=maybe").status_code == 400
    assert api.get("/api/v1/login-events/?cursor=bogus").status_code == 404


def test_change_log_lists_this_sites_writes(api: APIClient, api_b: APIClient, site: Site) -> None:
    api.post("/api/v1/campaigns/", {"name": "Mine"}, format="json")
    api_b.post("/api/v1/campaigns/", {"name": "Theirs"}, format="json")
    changes = results(api.get("/api/v1/changes/"))
    assert [(c["action"], c["object_type"]) for c in changes] == [("create", "campaigns.campaign")]
    assert changes[0]["token_name"] == api.token.name  # type: ignore[attr-defined]
