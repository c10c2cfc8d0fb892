"""The SP private key is stored encrypted and decrypted only into the
cached SP configuration.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from devidp.idp import DevIdp
from sso.saml.config import saml_settings_get, sp_config_cache_clear, sp_config_get
from sso.saml.metadata import sp_key_pair_generate
from sso.saml.models import SamlSettings
from sso.saml.services import saml_settings_save
from sso_site.secret_store import secret_decrypt
from sso_site.signin.keys import session_key_for
from tenants.models import Audience, Site
from tests.fixtures.saml import ResponseFactory, acs_post, saml_settings_create

migration = importlib.import_module("sso.saml.migrations.0002_sp_private_key_encrypted")


def _raw_stored_key(settings_pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sp_private_key_encrypted FROM sso_saml_samlsettings WHERE id = %s",
            [settings_pk],
        )
        return str(cursor.fetchone()[0])


def test_the_database_never_holds_the_pem_private_key(site: Site, idp_a: DevIdp) -> None:
    settings = saml_settings_create(site, idp_a)
    settings.email_attribute = "mail"
    saml_settings_save(settings)  # saved again: the key stays as it was, encrypted

    stored = _raw_stored_key(settings.pk)
    assert stored
    assert "PRIVATE KEY" not in stored
    assert "PRIVATE KEY" in (secret_decrypt(stored) or "")


def test_the_sp_config_holds_the_decrypted_key_of_its_certificate(saml_site: Site) -> None:
    settings = saml_settings_get(site=saml_site, audience=Audience.AGENT)
    assert settings is not None
    conf = sp_config_get(RequestFactory().get("/"), settings=settings)

    key = serialization.load_pem_private_key(Path(conf.key_file).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    certificate = x509.load_pem_x509_certificate(settings.sp_certificate.encode())
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    signature = key.sign(b"probe", padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, b"probe", padding.PKCS1v15(), hashes.SHA256())  # raises if not


def test_a_key_encrypted_under_a_previous_secret_key_still_signs_in(
    client: Client,
    saml_site: Site,
    agent: object,
    saml_response_factory: ResponseFactory,
    settings: SettingsWrapper,
) -> None:
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    sp_config_cache_clear()

    response = acs_post(client, saml_site, saml_response_factory(saml_site))
    assert response.status_code == 302
    assert session_key_for(Audience.AGENT) in client.session


def test_a_key_no_configured_secret_key_decrypts_is_a_configuration_error(
    saml_site: Site, settings: SettingsWrapper
) -> None:
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    sp_config_cache_clear()
    saml = saml_settings_get(site=saml_site, audience=Audience.AGENT)
    assert saml is not None

    with pytest.raises(ImproperlyConfigured, match="does not decrypt"):
        sp_config_get(RequestFactory().get("/"), settings=saml)


def test_saving_re_encrypts_the_key_under_the_current_secret_key(
    saml_site: Site, settings: SettingsWrapper
) -> None:
    saml = SamlSettings.objects.get(site=saml_site)
    certificate = saml.sp_certificate
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    saml_settings_save(saml)
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired
    sp_config_cache_clear()

    saved = SamlSettings.objects.get(pk=saml.pk)
    assert saved.sp_certificate == certificate  # the same key pair
    assert "PRIVATE KEY" not in _raw_stored_key(saml.pk)
    sp_config_get(RequestFactory().get("/"), settings=saved)  # decrypts: no error


def test_saving_replaces_a_key_no_secret_key_decrypts(
    saml_site: Site, settings: SettingsWrapper
) -> None:
    saml = SamlSettings.objects.get(site=saml_site)
    certificate = saml.sp_certificate
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    saml_settings_save(saml)
    sp_config_cache_clear()

    saved = SamlSettings.objects.get(pk=saml.pk)
    assert saved.sp_certificate != certificate  # a new key pair
    sp_config_get(RequestFactory().get("/"), settings=saved)


def test_the_data_migration_encrypts_plain_keys_and_reverses(saml_site: Site) -> None:
    key_pem, _ = sp_key_pair_generate(common_name="legacy")
    SamlSettings.objects.filter(site=saml_site).update(sp_private_key_encrypted=key_pem)
    pk = SamlSettings.objects.get(site=saml_site).pk

    migration._encrypt_keys(apps, None)
    stored = _raw_stored_key(pk)
    assert "PRIVATE KEY" not in stored
    assert secret_decrypt(stored) == key_pem
    migration._encrypt_keys(apps, None)  # idempotent: not encrypted twice
    assert _raw_stored_key(pk) == stored

    migration._decrypt_keys(apps, None)
    assert _raw_stored_key(pk) == key_pem
