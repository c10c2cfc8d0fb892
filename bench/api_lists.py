"""Latency of API list calls on big sites, through the whole Django stack
(test client, PostgreSQL, Redis throttle): agents of a site with 10,000 of
them, and login events of a site with 100,000. Cursor pagination keeps a
page deep in the list as cheap as the first; an OFFSET page is shown for
contrast. Run: ``python -m bench.api_lists``.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlencode

from bench._setup import django_setup, report, timed

AGENTS = 10_000
EVENTS = 100_000
PAGE = 50


def _cursor(position: object) -> str:
    """Return DRF's cursor for "the rows after ``position``" (its wire format)."""
    return base64.b64encode(urlencode({"p": str(position)}).encode()).decode()


def main() -> None:
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from api.services import api_token_create
    from tenants.models import Agent, LoginEvent, Site

    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.close()
    settings.SSO_API_RATE = "1000000/min"

    site, _ = Site.objects.get_or_create(site_id=90010, defaults={"name": "Bench API"})
    have = Agent.objects.filter(site=site).count()
    Agent.objects.bulk_create(
        [Agent(site=site, email=f"agent{n}@bench.example") for n in range(have, AGENTS)],
        batch_size=5000,
    )
    have = LoginEvent.objects.filter(site=site).count()
    for start in range(have, EVENTS, 10_000):
        LoginEvent.objects.bulk_create(
            LoginEvent(
                site=site,
                audience="agent",
                protocol="jwt",
                outcome="refused",
                reason="jwt_expired" if n % 3 else "replay",
            )
            for n in range(start, min(start + 10_000, EVENTS))
        )
    with connection.cursor() as cursor:  # spread the events over ~28 hours
        cursor.execute(
            "UPDATE tenants_loginevent SET created_at = now() - id * interval '1 second' "
            "WHERE site_id = %s",
            [site.pk],
        )
    # The UPDATE left a dead row version per event: clean up as autovacuum would.
    connection.cursor().execute("VACUUM ANALYZE tenants_loginevent")
    _, raw = api_token_create(
        site=site,
        name=f"bench {timezone.now().isoformat()}",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.content[:200]
        assert len(response.json()["results"]) == PAGE

    events = LoginEvent.objects.filter(site=site).order_by("-created_at", "-id")
    deep_event = events.values_list("created_at", flat=True)[int(EVENTS * 0.9)]
    deep_email = (
        Agent.objects.filter(site=site).order_by("email").values_list("email", flat=True)[9000]
    )
    print(
        f"site with {Agent.objects.filter(site=site).count()} agents, "
        f"{events.count()} login events; page size {PAGE}"
    )
    agents, events_url = (
        f"/api/v1/agents/?page_size={PAGE}",
        f"/api/v1/login-events/?page_size={PAGE}",
    )
    cases = {
        "GET agents, first page": agents,
        "GET agents by email, after the 9,000th (cursor)": (
            f"{agents}&ordering=email&cursor={_cursor(deep_email)}"
        ),
        "GET agents ?role=agent": f"{agents}&role=agent",
        "GET login-events, first page": events_url,
        "GET login-events, after the 90,000th (cursor)": (
            f"{events_url}&cursor={_cursor(deep_event)}"
        ),
        "GET login-events ?reason=replay&outcome=refused": (
            f"{events_url}&reason=replay&outcome=refused"
        ),
    }
    for label, url in cases.items():
        report(label, timed(lambda url=url: get(url), runs=60, warmup=5))
    # For contrast: what an OFFSET page 90% deep costs in the database alone.
    report(
        "ORM only: login events OFFSET 90,000 LIMIT 50",
        timed(lambda: list(events[90_000 : 90_000 + PAGE]), runs=20, warmup=2),
    )


if __name__ == "__main__":
    main()
