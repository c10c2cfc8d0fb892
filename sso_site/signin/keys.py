"""Session key names, in one place (as Django has ``SESSION_KEY``).

Agents and visitors are site principals under namespaced keys; Django's own
auth keys stay with operators in ``/admin/``.
"""

from __future__ import annotations

from tenants.models import Audience

SESSION_KEYS: dict[str, str] = {
    Audience.AGENT: "_sso_agent",
    Audience.VISITOR: "_sso_visitor",
}


def session_key_for(audience: Audience | str) -> str:
    """Return the session key under which ``audience``'s binding is stored."""
    return SESSION_KEYS[audience]
