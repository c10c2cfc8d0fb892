"""Create (idempotently) the demo sites, agents, campaigns and accounts.

It lives in ``devidp``, the top layer, because demo data spans every app
(sites, campaigns, mappings, the protocol demos); ``devidp`` is installed
with the demo settings only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.models import Campaign
from devidp import chat_demo, demo_jwt, demo_oidc, demo_saml
from mapping.demo import demo_mappings_ensure
from tenants.domains import site_domain_confirm
from tenants.models import Agent, Site, SiteDomain
from tenants.services import operator_grant

DEMO_SITES = [
    (10001, "Demo Outdoor Shop", "http://127.0.0.1:8000\nhttp://localhost:8000"),
    (10002, "Other Tenant Ltd", ""),
]
DEMO_AGENTS = [
    (10001, "alice@demo.example", "Alice Admin", Agent.Role.ADMIN),
    (10001, "bob@demo.example", "Bob Agent", Agent.Role.AGENT),
    (10001, "vera@demo.example", "Vera VIP-desk", Agent.Role.SUPERVISOR),
    (10002, "alice@demo.example", "Alice at Other", Agent.Role.AGENT),
]
DEMO_CAMPAIGNS = [
    (10001, "Support (no sign-in)", Campaign.SignInMode.NONE, True),
    (10001, "Members (sign-in optional)", Campaign.SignInMode.OPTIONAL, True),
    (10001, "Account help (sign-in required)", Campaign.SignInMode.REQUIRED, False),
]
# Email domains the demo sites claim (confirmed by the demo superuser), so a
# work email on the sign-in page goes straight to its site's SSO.
DEMO_DOMAINS = [(10001, "demo.example"), (10003, "jwt-demo.example")]
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed to the developer on purpose


class Command(BaseCommand):
    help = "Create the demo sites, agents, campaigns, a superuser and an operator."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        if not getattr(settings, "SSO_DEMO", False):
            raise CommandError("demo_setup runs only with demo settings (SSO_DEMO = True).")
        sites = {}
        for site_id, name, origins in DEMO_SITES:
            sites[site_id], _ = Site.objects.update_or_create(
                site_id=site_id, defaults={"name": name, "allowed_origins": origins}
            )
        for site_id, email, name, role in DEMO_AGENTS:
            Agent.objects.update_or_create(
                site=sites[site_id], email=email, defaults={"name": name, "role": role}
            )
        for site_id, name, mode, survey in DEMO_CAMPAIGNS:
            Campaign.objects.update_or_create(
                site=sites[site_id],
                name=name,
                defaults={"signin_mode": mode, "prechat_survey": survey},
            )
        demo_mappings_ensure(site=sites[10001])
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@demo.example", DEMO_PASSWORD)
        operator = user_model.objects.filter(username="operator").first()
        if operator is None:
            operator = user_model.objects.create_user("operator", "op@demo.example", DEMO_PASSWORD)
        operator_grant(site=sites[10001], user=operator)
        extra_lines: list[str] = []
        # Protocol demos add themselves here: each returns lines to print.
        extra_lines += demo_jwt.configure(base_url=base_url)
        extra_lines += demo_saml.configure(base_url=base_url)
        extra_lines += demo_oidc.configure(base_url=base_url)
        extra_lines += chat_demo.configure(site=sites[10001], base_url=base_url)
        admin = user_model.objects.get(username="admin")
        for site_id, domain in DEMO_DOMAINS:
            claim, _ = SiteDomain.objects.get_or_create(
                site=Site.objects.get(site_id=site_id), domain=domain
            )
            if claim.verified_at is None:
                site_domain_confirm(claim=claim, user=admin)
        self._print_welcome(base_url, extra_lines)

    def _print_welcome(self, base_url: str, extra_lines: list[str]) -> None:
        lines = [
            "",
            "Demo data is ready.",
            f"  Agent sign-in:   {base_url}/agent/login/   (site ID 10001 or a work email,",
            "                   e.g. alice@demo.example; jwt-demo.example finds site 10003)",
            f"  Agent sign-out:  {base_url}/agent/logout/",
            f"  Agent console:   {base_url}/console/",
            f"  Admin:           {base_url}/admin/   superuser admin / {DEMO_PASSWORD},",
            f"                   operator of site 10001 only: operator / {DEMO_PASSWORD}",
            f"  Health:          {base_url}/healthz",
            *extra_lines,
            "",
        ]
        self.stdout.write("\n".join(lines))
