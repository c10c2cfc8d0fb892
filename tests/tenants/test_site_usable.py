"""``site_is_usable`` is the one rule for a usable site; the selectors built
on it agree."""

from __future__ import annotations

from tenants.models import Agent, Site
from tenants.selectors import agent_get_signed_in, site_get_usable, site_is_usable


def test_a_missing_or_disabled_site_is_not_usable(site: Site, agent: Agent) -> None:
    assert site_is_usable(site)
    assert site_get_usable(pk=site.pk) == site
    assert agent_get_signed_in(site_pk=site.pk, pk=agent.pk) == agent

    site.is_active = False
    site.save()

    assert not site_is_usable(site)
    assert not site_is_usable(None)
    assert site_get_usable(pk=site.pk) is None
    assert site_get_usable(pk=site.pk + 1000) is None
    assert agent_get_signed_in(site_pk=site.pk, pk=agent.pk) is None
