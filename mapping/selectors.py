"""Read-only queries of mapping data. Each takes the site it reads from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapping.models import CustomVariable

if TYPE_CHECKING:
    from campaigns.models import Visitor
    from tenants.models import Site

BUILTIN_LABELS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"))


@dataclass(frozen=True, slots=True)
class PanelField:
    """One line of the agent's visitor panel."""

    key: str
    label: str
    value: Any


def custom_variables_shown(*, site: Site) -> list[CustomVariable]:
    """Return ``site``'s variables shown to agents, in panel order."""
    return list(CustomVariable.objects.for_site(site).filter(shown_to_agents=True))


def visitor_panel(*, visitor: Visitor) -> list[PanelField]:
    """Return what an agent sees of ``visitor``: built-in fields, then the
    custom variables shown to agents, in their order, with their labels.
    Empty values are left out.
    """
    fields = [
        PanelField(key, label, getattr(visitor, key))
        for key, label in BUILTIN_LABELS
        if getattr(visitor, key)
    ]
    for variable in custom_variables_shown(site=visitor.site):
        value = visitor.custom.get(variable.key)
        if value not in (None, "", []):
            fields.append(PanelField(variable.key, variable.label, value))
    return fields
