"""Demo custom variables and mappings (``demo_setup``): a membership level
that routing rules and the agent's visitor panel can use.
"""

from __future__ import annotations

from mapping.models import CustomVariable, FieldMapping, Target
from mapping.services import mappings_default_create
from tenants.models import Audience, Protocol, Site

DEMO_VARIABLES = [
    # key, label, type, choices, order
    ("membership_level", "Membership level", "choice", "VIP\nMember\nBasic", 1),
    ("customer_since", "Customer since", "date", "", 2),
    ("lifetime_value", "Lifetime value", "number", "", 3),
]
DEMO_MAPPINGS = [
    # protocol, source, variable key, default
    (Protocol.JWT, "membership.level", "membership_level", "Basic"),
    (Protocol.JWT, "membership.since", "customer_since", ""),
    (Protocol.JWT, "ltv", "lifetime_value", ""),
    (Protocol.SAML, "membershipLevel", "membership_level", "Basic"),
    (Protocol.SAML, "customerSince", "customer_since", ""),
    (Protocol.SAML, "lifetimeValue", "lifetime_value", ""),
]


def demo_mappings_ensure(*, site: Site) -> None:
    """Give ``site`` the demo variables and visitor mappings (idempotent)."""
    mappings_default_create(site=site)
    variables = {}
    for key, label, type_, choices, order in DEMO_VARIABLES:
        variables[key], _ = CustomVariable.objects.update_or_create(
            site=site,
            key=key,
            defaults={"label": label, "type": type_, "choices": choices, "order": order},
        )
    for protocol, source, key, default in DEMO_MAPPINGS:
        FieldMapping.objects.update_or_create(
            site=site,
            audience=Audience.VISITOR,
            protocol=protocol,
            variable=variables[key],
            defaults={
                "source": source,
                "target": Target.CUSTOM,
                "type": variables[key].type,
                "default": default,
                "lower": False,
            },
        )
