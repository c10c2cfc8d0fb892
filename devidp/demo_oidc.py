"""Demo site 10004, "Demo OIDC Inc": agents sign in with OpenID Connect at
the development IdP's OpenID provider (``devidp.oidc_provider``); MFA is
required (the provider sends ``amr``), and agent Nina is designated for
break-glass password + TOTP sign-in.

The lead wires ``configure`` into ``demo_setup`` (its lines are printed).
"""

from __future__ import annotations

from access.models import AccessPolicy, SsoMode
from devidp.oidc_provider import CLIENT_ID, CLIENT_SECRET
from sso.oidc.models import OidcSettings
from sso.password.models import AgentCredential
from sso.password.services import credential_set
from sso_site.secret_store import secret_encrypt
from tenants.models import Agent, Audience, Site

DEMO_SITE_ID = 10004
BREAK_GLASS_PASSWORD = "demo-break-glass-password"  # noqa: S105 - printed on purpose
DEMO_AGENTS = [
    ("olga@oidc-demo.example", "Olga OIDC-Admin", Agent.Role.ADMIN),
    ("nina@oidc-demo.example", "Nina Break-Glass", Agent.Role.SUPERVISOR),
]


def configure(*, base_url: str) -> list[str]:
    """Create (idempotently) the OpenID Connect demo site; return lines to print."""
    site, _ = Site.objects.update_or_create(
        site_id=DEMO_SITE_ID, defaults={"name": "Demo OIDC Inc", "allowed_origins": base_url}
    )
    agents = {}
    for email, name, role in DEMO_AGENTS:
        agents[email], _ = Agent.objects.update_or_create(
            site=site, email=email, defaults={"name": name, "role": role, "is_active": True}
        )
    OidcSettings.objects.update_or_create(
        site=site,
        audience=Audience.AGENT,
        defaults={
            "enabled": True,
            "issuer": f"{base_url}/dev-idp/oidc",
            "client_id": CLIENT_ID,
            "client_secret_encrypted": secret_encrypt(CLIENT_SECRET),
            "mfa_required": True,
        },
    )
    AccessPolicy.objects.update_or_create(
        site=site, defaults={"agent_method": AccessPolicy.Method.OIDC, "sso_mode": SsoMode.REQUIRED}
    )
    nina = agents["nina@oidc-demo.example"]
    lines = [
        f"  OpenID Connect:  {base_url}/agent/login/   (site ID {DEMO_SITE_ID}, Demo OIDC Inc:",
        "                   the dev IdP's OpenID provider; MFA required: untick it, refused)",
    ]
    if not AgentCredential.objects.filter(site=site, agent=nina).exists():
        secret = credential_set(
            site=site, agent=nina, password=BREAK_GLASS_PASSWORD, break_glass=True
        )
        lines += [
            f"  Break-glass:     {base_url}/sso/{DEMO_SITE_ID}/agent/password/   nina@oidc-demo"
            f".example / {BREAK_GLASS_PASSWORD}, TOTP secret {secret}",
        ]
    return lines
