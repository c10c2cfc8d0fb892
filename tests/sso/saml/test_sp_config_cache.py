"""The per-process SP configuration cache: least recently used, bounded by
the memory budget ``SSO_SAML_SP_CACHE_MB``, lean to build."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import RequestFactory, override_settings

from devidp.idp import DevIdp
from sso.saml import config
from sso.saml.models import SamlSettings
from tests.factories import SiteFactory
from tests.fixtures.saml import saml_settings_create

pytestmark = pytest.mark.django_db


def _settings(idp: DevIdp, count: int) -> list[SamlSettings]:
    return [saml_settings_create(SiteFactory.create(), idp) for _ in range(count)]


def _budget_for(settings: list[SamlSettings]) -> float:
    """Return a budget in MB that holds exactly these configurations."""
    return sum(config.sp_config_bytes(s) for s in settings) / 2**20


def test_the_least_recently_used_site_is_evicted_not_the_oldest(idp_a: DevIdp) -> None:
    first, second, third = _settings(idp_a, 3)
    request = RequestFactory().get("/")
    with override_settings(SSO_SAML_SP_CACHE_MB=_budget_for([first, second])):
        conf_first = config.sp_config_get(request, settings=first)
        conf_second = config.sp_config_get(request, settings=second)
        # The first is used again: the second is now the least recent.
        assert config.sp_config_get(request, settings=first) is conf_first
        config.sp_config_get(request, settings=third)

        assert config.sp_config_get(request, settings=first) is conf_first
        assert config.sp_config_get(request, settings=second) is not conf_second


def test_the_cache_holds_what_its_memory_budget_allows(idp_a: DevIdp) -> None:
    many = _settings(idp_a, 5)
    request = RequestFactory().get("/")
    with override_settings(SSO_SAML_SP_CACHE_MB=_budget_for(many[:3])):
        for settings in many:
            config.sp_config_get(request, settings=settings)
        stats = config.sp_cache_stats()

    assert stats["entries"] == 3
    assert stats["bytes"] <= stats["budget"]
    assert stats["bytes"] == sum(config.sp_config_bytes(s) for s in many[2:])


def test_a_larger_metadata_document_is_charged_more(idp_a: DevIdp) -> None:
    (settings,) = _settings(idp_a, 1)
    bigger = SamlSettings(idp_metadata_xml=settings.idp_metadata_xml * 3)
    assert config.sp_config_bytes(bigger) > config.sp_config_bytes(settings)


def test_a_new_settings_version_replaces_the_old_entry(idp_a: DevIdp) -> None:
    (settings,) = _settings(idp_a, 1)
    request = RequestFactory().get("/")
    config.sp_config_get(request, settings=settings)
    settings.email_attribute = "mail"
    settings.save()
    config.sp_config_get(request, settings=settings)

    assert config.sp_cache_stats()["entries"] == 1


def test_sites_share_one_set_of_attribute_converters(idp_a: DevIdp) -> None:
    first, second = _settings(idp_a, 2)
    request = RequestFactory().get("/")
    conf_first = config.sp_config_get(request, settings=first)
    conf_second = config.sp_config_get(request, settings=second)

    assert conf_first.attribute_converters is conf_second.attribute_converters
    assert conf_first.metadata is not conf_second.metadata


def test_the_sp_key_parsed_on_first_use_signs_for_its_certificate(idp_a: DevIdp) -> None:
    from cryptography import x509

    (settings,) = _settings(idp_a, 1)
    conf = config.sp_config_get(RequestFactory().get("/"), settings=settings)
    assert "sso_signing_key" not in vars(conf)  # not parsed by the build

    signature = conf.sso_signing_key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    public_key = x509.load_pem_x509_certificate(settings.sp_certificate.encode()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
