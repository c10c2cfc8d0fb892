"""The mapping layer refuses in its own terms; the session layer translates.

``mapping`` sits below the session layer and never imports it: an unmet rule
raises ``MappingRefusedError`` naming fields and problem codes, never values.
"""

from __future__ import annotations

import pytest

from mapping.services import MappingRefusedError, mapping_apply
from tenants.models import Audience, Protocol, Site
from tests.mapping.shapes import mapping


def test_an_unmet_rule_raises_mappings_own_error_without_values(site: Site) -> None:
    mapping(site, source="tel", target="phone", required=True)

    with pytest.raises(MappingRefusedError) as refused:
        mapping_apply(
            site=site,
            audience=Audience.VISITOR,
            protocol=Protocol.JWT,
            claims={"external_id": "v-1", "email": "secret-value@shop.example"},
        )

    assert refused.value.fields == ["phone"]
    assert [p["target"] for p in refused.value.problems] == ["phone"]
    assert "secret-value" not in str(refused.value.problems)
