"""Each factory builds a valid row, and related rows stay on the same site."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories

ALL: list[Any] = [
    factories.SiteFactory,
    factories.AgentFactory,
    factories.SiteOperatorFactory,
    factories.SiteDomainFactory,
    factories.LoginEventFactory,
    factories.UsedTokenFactory,
    factories.CampaignFactory,
    factories.VisitorFactory,
    factories.CustomVariableFactory,
    factories.FieldMappingFactory,
    factories.ChatFactory,
    factories.MessageFactory,
    factories.SignInRequestFactory,
    factories.RoutingRuleFactory,
    factories.JwtSettingsFactory,
    factories.SamlSettingsFactory,
]


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

    ours = {"tenants", "campaigns", "mapping", "chats", "sso_jwt", "sso_saml"}
    models = {m for m in apps.get_models() if m._meta.app_label in ours}
    covered = {f._meta.model for f in ALL}
    assert models == covered
