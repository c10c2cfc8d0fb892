"""JWT settings: validation messages and the shared secret's storage."""

from __future__ import annotations

import hmac
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.db import connection

from sso.jwt.models import JwtSettings
from sso.jwt.services import jwt_secret_rotate
from sso_site.secret_store import secret_decrypt, secret_encrypt
from tenants.models import Site
from tests.fixtures.jwt import Keyring, private_pem, public_pem
from tests.security.test_jwt_attacks import hand_made

NOT_PEM = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"


def config_for(site: Site, alg: str, **fields: Any) -> JwtSettings:
    return JwtSettings(site=site, login_url="https://login.shop.example/", algorithm=alg, **fields)


def errors_of(config: JwtSettings) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        config.full_clean()
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("alg", "pem", "message"),
    [
        ("RS256", lambda k: NOT_PEM, "Not a PEM public key"),
        ("RS256", lambda k: private_pem(k.rsa), "This is a private key"),
        ("RS256", lambda k: public_pem(k.ec), "RS256 needs an RSA key; this is a EC secp256r1 key"),
        ("ES256", lambda k: public_pem(k.rsa), "ES256 needs an EC P-256 key; this is a RSA key"),
        ("ES256", lambda k: public_pem(ec.generate_private_key(ec.SECP384R1())), "P-256 curve"),
        ("RS256", lambda k: public_pem(rsa.generate_private_key(65537, 1024)), "has 1024 bits"),  # noqa: S505
    ],
)  # fmt: skip
def test_public_key_problems_are_named(
    site: Site, keyring: Keyring, alg: str, pem: Any, message: str
) -> None:
    errors = errors_of(config_for(site, alg, public_key=pem(keyring)))
    assert message in " ".join(errors["public_key"])


def test_asymmetric_algorithm_needs_a_key(site: Site) -> None:
    assert (
        "needs a public key (PEM) or a JWKS URL"
        in errors_of(config_for(site, "ES256"))["public_key"][0]
    )


def test_pem_and_jwks_are_exclusive(site: Site, keyring: Keyring) -> None:
    config = config_for(
        site, "RS256", public_key=public_pem(keyring.rsa), jwks_url="https://x.example/jwks"
    )
    assert errors_of(config)["jwks_url"] == ["Use either PEM public keys or a JWKS URL."]


def test_jwks_over_plain_http_is_refused_outside_tests(site: Site, settings: Any) -> None:
    settings.SSO_JWKS_ALLOW_HTTP = False
    config = config_for(site, "RS256", jwks_url="http://x.example/jwks")
    assert errors_of(config)["jwks_url"] == ["The JWKS URL must use https."]


def test_hs256_cannot_be_enabled_without_a_secret(site: Site) -> None:
    assert (
        "Generate a shared secret first"
        in errors_of(config_for(site, "HS256", enabled=True))["enabled"][0]
    )
    config_for(site, "HS256", enabled=False).full_clean()  # saving first is fine


def test_hs256_secret_shorter_than_32_bytes_is_refused(site: Site) -> None:
    config = config_for(site, "HS256", enabled=True, secret_encrypted=secret_encrypt("x" * 31))
    assert "at least 32 bytes" in errors_of(config)["enabled"][0]


def test_hs256_with_public_keys_is_refused(site: Site, keyring: Keyring) -> None:
    config = config_for(site, "HS256", public_key=public_pem(keyring.rsa))
    assert "shared secret only" in errors_of(config)["algorithm"][0]


def test_rotation_key_ids_must_differ(site: Site, keyring: Keyring) -> None:
    config = config_for(
        site,
        "RS256",
        public_key=public_pem(keyring.rsa),
        public_key_id="a",
        next_public_key=public_pem(keyring.rsa_next),
        next_public_key_id="a",
    )
    assert errors_of(config)["next_public_key_id"] == ["The two key IDs must differ."]


def test_secret_is_stored_encrypted_and_only_its_fingerprint_is_readable(site: Site) -> None:
    config = config_for(site, "HS256")
    config.save()

    raw = jwt_secret_rotate(config=config)

    assert len(raw.encode()) >= 32
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sso_jwt_jwtsettings WHERE id = %s", [config.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert raw not in row
    config.refresh_from_db()
    assert secret_decrypt(config.secret_encrypted) == raw
    assert config.secret_fingerprint
    assert config.secret_fingerprint not in raw


def test_secret_survives_a_secret_key_rotation_through_fallbacks(settings: Any) -> None:
    stored = secret_encrypt("s" * 43)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test"
    assert secret_decrypt(stored) == "s" * 43
    settings.SECRET_KEY_FALLBACKS = []
    assert secret_decrypt(stored) is None


def test_pyjwt_itself_refuses_a_public_key_pem_as_hmac_secret(keyring: Keyring) -> None:
    # Defence in depth below our one-algorithm rule (tests/security covers
    # the rule): even asked to, PyJWT will not use a PEM as an HMAC key.
    pem = public_pem(keyring.rsa)
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode({"a": 1}, pem, algorithm="HS256")
    forged = hand_made(
        {"alg": "HS256"}, {"a": 1}, lambda d: hmac.new(pem.encode(), d, "sha256").digest()
    )
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(forged, pem, algorithms=["HS256"])
