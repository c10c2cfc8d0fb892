"""Cost of the session layer: one ``sign_in()`` on PostgreSQL, and its queries."""

from __future__ import annotations

from bench._setup import django_setup, report, timed


def main() -> None:
    django_setup()
    from importlib import import_module

    from django.conf import settings
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from sso_site.signin.identity import VerifiedIdentity
    from sso_site.signin.session import sign_in
    from tenants.models import Agent, Audience, Protocol, Site

    site, _ = Site.objects.get_or_create(site_id=90001, defaults={"name": "Bench"})
    agent, _ = Agent.objects.get_or_create(site=site, email="bench@bench.example")
    identity = VerifiedIdentity(
        site=site, audience=Audience.AGENT, protocol=Protocol.JWT, subject=agent.email
    )
    engine = import_module(settings.SESSION_ENGINE)

    def one_sign_in() -> None:
        request = RequestFactory().get("/")
        request.session = engine.SessionStore()
        sign_in(request, identity=identity)
        request.session.save()

    with CaptureQueriesContext(connection) as queries:
        one_sign_in()
    report("sign_in() + session save, PostgreSQL", timed(one_sign_in, runs=300))
    print(f"queries per sign-in (incl. session insert): {len(queries)}")


if __name__ == "__main__":
    main()
