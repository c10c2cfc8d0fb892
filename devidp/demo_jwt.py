"""Demo site 10003, "Demo JWT Co": agents sign in over JWT issued by the
development IdP's login page (``devidp.jwt_login``).
"""

from __future__ import annotations

from devidp.jwt_login import DEMO_SITE_ID, ISSUER, KEY_ID, audience_for, demo_public_pem
from sso.jwt.models import Algorithm, JwtSettings
from tenants.models import Agent, Audience, Site

DEMO_AGENTS = [
    ("jules@jwt-demo.example", "Jules JWT-Admin", Agent.Role.ADMIN, True),
    ("kim@jwt-demo.example", "Kim Agent", Agent.Role.AGENT, True),
    ("former@jwt-demo.example", "Former Agent", Agent.Role.AGENT, False),
]


def configure(*, base_url: str) -> list[str]:
    """Create (idempotently) the JWT demo site; return lines to print."""
    site, _ = Site.objects.update_or_create(
        site_id=DEMO_SITE_ID,
        defaults={
            "name": "Demo JWT Co",
            "allowed_origins": base_url,
            # Just-in-time creation only for the demo company's own domain.
            "jit_domains": "jwt-demo.example",
        },
    )
    for email, name, role, active in DEMO_AGENTS:
        Agent.objects.update_or_create(
            site=site, email=email, defaults={"name": name, "role": role, "is_active": active}
        )
    config = JwtSettings.objects.filter(site=site, audience=Audience.AGENT).first()
    config = config or JwtSettings(site=site, audience=Audience.AGENT)
    config.enabled = True
    config.login_url = f"{base_url}/dev-idp/jwt/login/"
    config.logout_url = f"{base_url}/dev-idp/jwt/logout/"
    config.algorithm = Algorithm.RS256
    config.public_key = demo_public_pem()
    config.public_key_id = KEY_ID
    config.expected_issuer = ISSUER
    config.expected_audience = audience_for(DEMO_SITE_ID)
    config.jit_enabled = True
    config.full_clean()
    config.save()
    return [
        f"  JWT sign-in:     {base_url}/agent/login/   (site ID {DEMO_SITE_ID}, Demo JWT Co:",
        "                   the dev IdP's page plays the customer's login and issues the JWT)",
    ]
