"""factory_boy factories, one per model: valid rows of one site by default.

Call ``SiteFactory.create(...)`` (typed: it returns a ``Site``) rather than
``SiteFactory.create(...)``, which the type checker sees as a factory instance.

Every site-owned factory takes ``site=``; rows it creates for related
objects (a chat's campaign, a message's chat) belong to that same site, so
a factory never builds a cross-tenant row by accident.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.models import Campaign, Visitor
from chats.models import Chat, Message, RoutingRule, SignInRequest
from devidp.idp import DevIdp
from devidp.saml_kit import idp_create
from mapping.models import CustomVariable, FieldMapping, Target
from sso.jwt.models import Algorithm, JwtSettings
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from tenants.models import (
    Agent,
    Audience,
    LoginEvent,
    Protocol,
    Site,
    SiteDomain,
    SiteOperator,
    UsedToken,
)


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site

    site_id = factory.Sequence(lambda n: 20000 + n)
    name = factory.Sequence(lambda n: f"Site {n}")
    allowed_origins = "https://shop.example"


class AgentFactory(factory.django.DjangoModelFactory[Agent]):
    class Meta:
        model = Agent

    site = factory.SubFactory(SiteFactory)
    email = factory.Sequence(lambda n: f"agent{n}@example.com")
    name = factory.Faker("name")


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"operator{n}")
    password = factory.django.Password("demo-password")
    is_staff = True


class SiteOperatorFactory(factory.django.DjangoModelFactory[SiteOperator]):
    class Meta:
        model = SiteOperator

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)


class SiteDomainFactory(factory.django.DjangoModelFactory[SiteDomain]):
    class Meta:
        model = SiteDomain

    site = factory.SubFactory(SiteFactory)
    domain = factory.Sequence(lambda n: f"company{n}.example")


class LoginEventFactory(factory.django.DjangoModelFactory[LoginEvent]):
    class Meta:
        model = LoginEvent

    site = factory.SubFactory(SiteFactory)
    audience = Audience.AGENT
    protocol = Protocol.JWT
    outcome = LoginEvent.Outcome.SUCCESS
    subject = factory.Sequence(lambda n: f"agent{n}@example.com")


class UsedTokenFactory(factory.django.DjangoModelFactory[UsedToken]):
    class Meta:
        model = UsedToken

    site = factory.SubFactory(SiteFactory)
    kind = "jti"
    value = factory.LazyFunction(lambda: secrets.token_hex(8))
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(minutes=5))


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")


class VisitorFactory(factory.django.DjangoModelFactory[Visitor]):
    class Meta:
        model = Visitor

    site = factory.SubFactory(SiteFactory)
    external_id = factory.Sequence(lambda n: f"visitor-{n}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"visitor{n}@shop.example")


class CustomVariableFactory(factory.django.DjangoModelFactory[CustomVariable]):
    class Meta:
        model = CustomVariable

    site = factory.SubFactory(SiteFactory)
    key = factory.Sequence(lambda n: f"variable_{n}")
    label = factory.Sequence(lambda n: f"Variable {n}")


class FieldMappingFactory(factory.django.DjangoModelFactory[FieldMapping]):
    class Meta:
        model = FieldMapping

    site = factory.SubFactory(SiteFactory)
    audience = Audience.VISITOR
    protocol = Protocol.JWT
    source = "phone_number"
    target = Target.PHONE


class ChatFactory(factory.django.DjangoModelFactory[Chat]):
    class Meta:
        model = Chat

    site = factory.SubFactory(SiteFactory)
    campaign = factory.SubFactory(CampaignFactory, site=factory.SelfAttribute("..site"))
    guest_label = factory.Sequence(lambda n: f"Guest {n}")


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    site = factory.SubFactory(SiteFactory)
    chat = factory.SubFactory(ChatFactory, site=factory.SelfAttribute("..site"))
    sender = Message.Sender.VISITOR
    text = factory.Faker("sentence")


class SignInRequestFactory(factory.django.DjangoModelFactory[SignInRequest]):
    class Meta:
        model = SignInRequest

    site = factory.SubFactory(SiteFactory)
    chat = factory.SubFactory(ChatFactory, site=factory.SelfAttribute("..site"))
    agent = factory.SubFactory(AgentFactory, site=factory.SelfAttribute("..site"))


class RoutingRuleFactory(factory.django.DjangoModelFactory[RoutingRule]):
    class Meta:
        model = RoutingRule

    site = factory.SubFactory(SiteFactory)
    campaign = factory.SubFactory(CampaignFactory, site=factory.SelfAttribute("..site"))
    field = "email"
    value = "vip@shop.example"
    group = "vip"


def _shared_secret() -> str:
    return secrets.token_urlsafe(48)


class JwtSettingsFactory(factory.django.DjangoModelFactory[JwtSettings]):
    """HS256 settings with a fresh shared secret (``secret``, not stored)."""

    class Meta:
        model = JwtSettings
        exclude = ("secret",)

    site = factory.SubFactory(SiteFactory)
    audience = Audience.AGENT
    enabled = True
    login_url = "https://login.shop.example/sso"
    algorithm = Algorithm.HS256
    secret = factory.LazyFunction(_shared_secret)
    secret_encrypted = factory.LazyAttribute(lambda o: secret_encrypt(o.secret))
    secret_fingerprint = factory.LazyAttribute(lambda o: secret_fingerprint(o.secret))


@cache
def factory_idp() -> DevIdp:
    """Return an IdP whose keys are made once per test run."""
    return idp_create(Path(tempfile.mkdtemp(prefix="factory-idp-")), "factory-idp")


class SamlSettingsFactory(factory.django.DjangoModelFactory[SamlSettings]):
    """Settings trusting ``factory_idp()``, validated (derived fields filled) on create."""

    class Meta:
        model = SamlSettings

    site = factory.SubFactory(SiteFactory)
    audience = Audience.AGENT
    source = SamlSettings.Source.XML
    metadata_xml = factory.LazyFunction(lambda: factory_idp().metadata_xml())

    @classmethod
    def _create(cls, model_class: type[SamlSettings], *args: Any, **kwargs: Any) -> SamlSettings:
        settings = model_class(**kwargs)
        saml_settings_save(settings)
        return settings
