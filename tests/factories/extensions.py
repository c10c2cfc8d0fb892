"""factory_boy factories of the apps built on the core ones: access, api,
scim, sso.oidc, sso.password, webhooks and lifecycle. As in ``core``: valid
rows of one site by default, and related rows on that same site.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import factory
import pyotp
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from access.models import AccessPolicy
from api.models import ApiChange, ApiToken, Scope
from lifecycle.models import (
    ExpiryWarning,
    JobRun,
    JwksRefresh,
    KeyRotation,
    MetadataRefresh,
    SiteRetention,
    SpCertificateRenewal,
)
from lifecycle.sp_renewal import sp_renewal_start
from scim.models import DirectoryLink, GroupRole, ScimGroup
from sso.oidc.models import OidcSettings
from sso.password.models import AgentCredential, BreakGlassUse
from sso_site.secret_store import secret_encrypt
from tenants.models import Agent, Audience
from tests.factories.core import AgentFactory, JwtSettingsFactory, SamlSettingsFactory, SiteFactory
from webhooks.models import (
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.signing import secret_new

SAME_SITE = factory.SelfAttribute("..site")

# access


class AccessPolicyFactory(factory.django.DjangoModelFactory[AccessPolicy]):
    class Meta:
        model = AccessPolicy
        django_get_or_create = ("site",)  # one per site

    site = factory.SubFactory(SiteFactory)


# api


class ApiTokenFactory(factory.django.DjangoModelFactory[ApiToken]):
    """A token row; ``raw`` (not stored) is the bearer value its digest is of.
    (``api.services.api_token_create`` is what the admin and the API use.)
    """

    class Meta:
        model = ApiToken
        exclude = ("raw",)

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    scopes = factory.LazyFunction(lambda: [Scope.READ.value])
    raw = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    prefix = factory.LazyAttribute(lambda o: o.raw[:8])
    digest = factory.LazyAttribute(lambda o: hashlib.sha256(o.raw.encode()).hexdigest())


class ApiChangeFactory(factory.django.DjangoModelFactory[ApiChange]):
    class Meta:
        model = ApiChange

    site = factory.SubFactory(SiteFactory)
    token = factory.SubFactory(ApiTokenFactory, site=SAME_SITE)
    token_name = factory.LazyAttribute(lambda o: o.token.name)
    object_type = "agent"
    object_id = "1"
    action = ApiChange.Action.CREATE
    fields = factory.LazyFunction(lambda: ["email"])


# sso.oidc and sso.password


class OidcSettingsFactory(factory.django.DjangoModelFactory[OidcSettings]):
    class Meta:
        model = OidcSettings

    site = factory.SubFactory(SiteFactory)
    audience = Audience.AGENT
    issuer = "https://id.shop.example"
    client_id = factory.Sequence(lambda n: f"chat-gateway-{n}")
    client_secret_encrypted = factory.LazyFunction(lambda: secret_encrypt(secrets.token_hex(24)))


class AgentCredentialFactory(factory.django.DjangoModelFactory[AgentCredential]):
    """A password (``password``) and a TOTP secret (``totp_secret``), not stored
    in the clear. (``sso.password.services.credential_set`` is the service.)
    """

    class Meta:
        model = AgentCredential
        exclude = ("password", "totp_secret")

    site = factory.SubFactory(SiteFactory)
    agent = factory.SubFactory(AgentFactory, site=SAME_SITE)
    password = "correct horse battery staple"
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    password_hash = factory.LazyAttribute(lambda o: make_password(o.password))
    totp_secret_encrypted = factory.LazyAttribute(lambda o: secret_encrypt(o.totp_secret))


class BreakGlassUseFactory(factory.django.DjangoModelFactory[BreakGlassUse]):
    class Meta:
        model = BreakGlassUse

    site = factory.SubFactory(SiteFactory)
    agent = factory.SubFactory(AgentFactory, site=SAME_SITE)
    client_ip = "203.0.113.7"


# scim


class ScimGroupFactory(factory.django.DjangoModelFactory[ScimGroup]):
    class Meta:
        model = ScimGroup

    site = factory.SubFactory(SiteFactory)
    display_name = factory.Sequence(lambda n: f"Support tier {n}")


class GroupRoleFactory(factory.django.DjangoModelFactory[GroupRole]):
    class Meta:
        model = GroupRole

    site = factory.SubFactory(SiteFactory)
    group_name = factory.Sequence(lambda n: f"Supervisors {n}")
    role = Agent.Role.SUPERVISOR


class DirectoryLinkFactory(factory.django.DjangoModelFactory[DirectoryLink]):
    class Meta:
        model = DirectoryLink

    site = factory.SubFactory(SiteFactory)
    agent = factory.SubFactory(AgentFactory, site=SAME_SITE)
    external_id = factory.Sequence(lambda n: f"dir-{n}")


# webhooks


class WebhookEndpointFactory(factory.django.DjangoModelFactory[WebhookEndpoint]):
    """An https endpoint for every event kind, with a fresh signing secret
    (``new_secret``: raw, ciphertext, fingerprint; not stored as such).
    """

    class Meta:
        model = WebhookEndpoint
        exclude = ("new_secret",)

    site = factory.SubFactory(SiteFactory)
    url = factory.Sequence(lambda n: f"https://hooks.shop.example/sso/{n}")
    events = factory.LazyFunction(lambda: list(EventKind.values))
    new_secret = factory.LazyFunction(secret_new)
    secret_encrypted = factory.LazyAttribute(lambda o: o.new_secret[1])
    secret_fingerprint = factory.LazyAttribute(lambda o: o.new_secret[2])


class WebhookEventFactory(factory.django.DjangoModelFactory[WebhookEvent]):
    class Meta:
        model = WebhookEvent

    site = factory.SubFactory(SiteFactory)
    kind = EventKind.AGENT_SIGNED_IN
    payload = factory.LazyFunction(lambda: {"agent_id": 1})


class WebhookDeliveryFactory(factory.django.DjangoModelFactory[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery

    site = factory.SubFactory(SiteFactory)
    event = factory.SubFactory(WebhookEventFactory, site=SAME_SITE)
    endpoint = factory.SubFactory(WebhookEndpointFactory, site=SAME_SITE)
    next_attempt_at = factory.LazyFunction(timezone.now)


class WebhookAttemptFactory(factory.django.DjangoModelFactory[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt

    site = factory.SubFactory(SiteFactory)
    delivery = factory.SubFactory(WebhookDeliveryFactory, site=SAME_SITE)
    number = 1
    status_code = 200
    duration_ms = 12


# lifecycle


class MetadataRefreshFactory(factory.django.DjangoModelFactory[MetadataRefresh]):
    class Meta:
        model = MetadataRefresh
        django_get_or_create = ("saml_settings",)  # one per SAML settings row

    site = factory.SubFactory(SiteFactory)
    saml_settings = factory.SubFactory(SamlSettingsFactory, site=SAME_SITE)


class JwksRefreshFactory(factory.django.DjangoModelFactory[JwksRefresh]):
    class Meta:
        model = JwksRefresh
        django_get_or_create = ("jwt_settings",)  # one per JWT settings row

    site = factory.SubFactory(SiteFactory)
    jwt_settings = factory.SubFactory(JwtSettingsFactory, site=SAME_SITE)


class SiteRetentionFactory(factory.django.DjangoModelFactory[SiteRetention]):
    class Meta:
        model = SiteRetention
        django_get_or_create = ("site",)  # one per site

    site = factory.SubFactory(SiteFactory)
    days = 90


class ExpiryWarningFactory(factory.django.DjangoModelFactory[ExpiryWarning]):
    class Meta:
        model = ExpiryWarning

    site = factory.SubFactory(SiteFactory)
    subject = factory.Sequence(lambda n: f"IdP signing certificate {n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    threshold_days = 30


class JobRunFactory(factory.django.DjangoModelFactory[JobRun]):
    class Meta:
        model = JobRun

    name = factory.Sequence(lambda n: f"lifecycle.job_{n}")


class KeyRotationFactory(JwtSettingsFactory):
    """JWT settings seen as keys to rotate (a proxy model)."""

    class Meta:
        model = KeyRotation


class SpCertificateRenewalFactory(factory.django.DjangoModelFactory[SpCertificateRenewal]):
    """A next SP key pair made by the renewal service, switching in a week."""

    class Meta:
        model = SpCertificateRenewal

    site = factory.SubFactory(SiteFactory)
    saml_settings = factory.SubFactory(SamlSettingsFactory, site=SAME_SITE)
    switch_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))

    @classmethod
    def _create(
        cls, model_class: type[SpCertificateRenewal], *args: Any, **kwargs: Any
    ) -> SpCertificateRenewal:
        return sp_renewal_start(
            site=kwargs["site"],
            saml_settings=kwargs["saml_settings"],
            switch_at=kwargs["switch_at"],
        )
