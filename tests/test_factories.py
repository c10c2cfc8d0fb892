"""Each factory builds a valid row, and related rows stay on the same site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import factories

ROOT = Path(__file__).resolve().parents[1]

ALL: list[Any] = [getattr(factories, n) for n in factories.__all__ if n.endswith("Factory")]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", ALL, ids=lambda f: f.__name__)
def test_the_factory_makes_a_valid_row(factory: Any) -> None:
    row = factory()
    row.full_clean()
    assert row.pk is not None


@pytest.mark.django_db
def test_related_rows_belong_to_the_same_site() -> None:
    site = factories.SiteFactory.create()
    message = factories.MessageFactory.create(site=site)
    request = factories.SignInRequestFactory.create(site=site)
    assert message.chat.site == message.chat.campaign.site == site
    assert request.agent is not None
    assert request.agent.site == request.chat.site == site


def test_every_model_has_a_factory() -> None:
    from django.apps import apps

    ours = [
        c
        for c in apps.get_app_configs()
        if Path(c.path).is_relative_to(ROOT) and "site-packages" not in Path(c.path).parts
    ]
    models = {m for c in ours for m in c.get_models(include_auto_created=False)}
    covered = {f._meta.model for f in ALL}
    assert ours
    assert models - covered == set()
