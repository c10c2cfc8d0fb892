"""What agents see of a visitor: labels, order, hidden variables left out."""

from __future__ import annotations

from campaigns.models import Visitor
from mapping.selectors import PanelField, visitor_panel
from tenants.models import Site
from tests.mapping.shapes import variable


def test_the_visitor_panel_lists_shown_variables_in_order(site: Site, other_site: Site) -> None:
    variable(site, "tier", "choice", choices="VIP", order=2)
    variable(site, "since", "date", order=1)
    variable(site, "internal_score", "number", shown_to_agents=False)
    variable(other_site, "tier", label="Their tier")
    visitor = Visitor.objects.create(
        site=site,
        external_id="v-1",
        name="Ann",
        custom={"tier": "VIP", "since": "2021-05-01", "internal_score": 7, "gone": "x"},
    )

    assert visitor_panel(visitor=visitor) == [
        PanelField("name", "Name", "Ann"),
        PanelField("since", "Since", "2021-05-01"),
        PanelField("tier", "Tier", "VIP"),
    ]
