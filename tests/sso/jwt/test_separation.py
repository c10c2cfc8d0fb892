"""A site's agent and visitor JWT settings never trust the same key: else a
token issued for visitors would sign an agent in when iss/aud are not set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.test import Client

from sso.jwt.models import JwtSettings
from sso.jwt.separation import jwks_url_normalised
from sso_site.secret_store import secret_encrypt, secret_fingerprint
from tenants.models import Site
from tests.fixtures.jwt import JwksServer, Keyring, jwk, public_pem

JWKS = "https://login.shop.example/.well-known/jwks.json"


def pkcs1_pem(private_key: Any) -> str:
    """The same RSA key, PEM-encoded another way ("BEGIN RSA PUBLIC KEY")."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )


def hs256(secret: str) -> dict[str, Any]:
    return {
        "algorithm": "HS256",
        "secret_encrypted": secret_encrypt(secret),  # a fresh ciphertext every time
        "secret_fingerprint": secret_fingerprint(secret),
    }


Fields = Callable[[Keyring], dict[str, Any]]

# The key fields each row can hold, built from the session's keyring.
KEYS: dict[str, Fields] = {
    "secret": lambda k: hs256(k.secret),
    "other_secret": lambda k: hs256(k.other_secret),
    "rsa": lambda k: {"public_key": public_pem(k.rsa)},
    "rsa_pkcs1": lambda k: {"public_key": pkcs1_pem(k.rsa)},
    "other_rsa": lambda k: {"public_key": public_pem(k.other_rsa)},
    "next_then_rsa": lambda k: {
        "public_key": public_pem(k.rsa_next),
        "next_public_key": public_pem(k.rsa),
    },
    "other_then_rsa": lambda k: {
        "public_key": public_pem(k.other_rsa),
        "next_public_key": public_pem(k.rsa),
    },
    "ec": lambda k: {"algorithm": "ES256", "public_key": public_pem(k.ec)},
    "jwks": lambda k: {"jwks_url": JWKS},
    "jwks_spelled_otherwise": lambda k: {
        "jwks_url": "HTTPS://Login.Shop.Example:443/.well-known/jwks.json/#x"
    },
    "jwks_other": lambda k: {"jwks_url": JWKS + "?audience=visitor"},
}

# (keys of the row saved first, keys of the second, field refused, words)
SAME_KEY = [
    ("secret", "secret", "__all__", "shared secret"),
    ("rsa", "rsa", "public_key", "public key"),
    ("rsa", "rsa_pkcs1", "public_key", "public key"),
    ("next_then_rsa", "other_then_rsa", "next_public_key", "public key"),
    ("ec", "ec", "public_key", "public key"),
    ("jwks", "jwks", "jwks_url", "JWKS URL"),
    ("jwks", "jwks_spelled_otherwise", "jwks_url", "JWKS URL"),
]

DIFFERENT_KEY = [
    ("secret", "other_secret"),
    ("rsa", "other_rsa"),
    ("jwks", "jwks_other"),
    ("secret", "rsa"),
]


def row(site: Site, audience: str, fields: dict[str, Any]) -> JwtSettings:
    values = {"algorithm": "RS256", "login_url": "https://login.shop.example/", **fields}
    return JwtSettings(site=site, audience=audience, **values)


@pytest.mark.parametrize("first_audience", ["visitor", "agent"])
@pytest.mark.parametrize(("first", "second", "field", "words"), SAME_KEY)
def test_the_other_audiences_key_is_refused(
    site: Site,
    keyring: Keyring,
    first_audience: str,
    first: str,
    second: str,
    field: str,
    words: str,
) -> None:
    existing = row(site, first_audience, KEYS[first](keyring))
    existing.full_clean()
    existing.save()
    second_audience = "agent" if first_audience == "visitor" else "visitor"

    with pytest.raises(ValidationError) as caught:
        row(site, second_audience, KEYS[second](keyring)).full_clean()

    message = " ".join(caught.value.message_dict[field])
    assert f"The {first_audience} JWT settings of this site already use this {words}" in message
    assert f"a token issued for {first_audience}s would then be accepted" in message
    assert JwtSettings.objects.count() == 1


@pytest.mark.parametrize(("first", "second"), DIFFERENT_KEY)
def test_a_different_key_saves(
    site: Site, other_site: Site, keyring: Keyring, first: str, second: str
) -> None:
    row(site, "visitor", KEYS[first](keyring)).save()
    row(other_site, "agent", KEYS[second](keyring)).save()
    config = row(site, "agent", KEYS[second](keyring))
    config.full_clean()  # and another site's use of the same key is its own affair
    config.save()


def test_editing_a_row_does_not_compare_it_with_itself(site: Site, keyring: Keyring) -> None:
    config = row(site, "agent", {"public_key": public_pem(keyring.rsa)})
    config.save()
    config.max_age = 120
    config.full_clean()


def test_a_secret_left_on_a_row_moved_to_rs256_is_not_compared(
    site: Site, keyring: Keyring
) -> None:
    row(site, "visitor", hs256(keyring.secret)).save()
    moved = row(site, "agent", {**hs256(keyring.secret), "algorithm": "RS256"})
    moved.public_key = public_pem(keyring.rsa)
    moved.full_clean()


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://login.shop.example/.well-known/jwks.json", True),
        ("https://LOGIN.shop.example./.well-known/jwks.json/", True),
        ("https://u:p@login.shop.example:443/.well-known/%6Awks.json", True),
        ("https://login.shop.example:8443/.well-known/jwks.json", False),
        ("http://login.shop.example/.well-known/jwks.json", False),
        ("https://login.shop.example/.well-known/JWKS.json", False),
    ],
)
def test_jwks_urls_are_compared_normalised(url: str, same: bool) -> None:
    assert (jwks_url_normalised(url) == jwks_url_normalised(JWKS)) is same


def admin_form(site: Site, audience: str, **fields: Any) -> dict[str, Any]:
    return {
        "site": site.pk,
        "audience": audience,
        "login_url": "https://login.shop.example/",
        "algorithm": "RS256",
        "max_age": 300,
        "leeway": 60,
        "max_token_bytes": 8192,
        "jit_role": "agent",
        "mfa_methods": "mfa",
        **fields,
    }


@pytest.mark.parametrize("first_audience", ["visitor", "agent"])
@pytest.mark.parametrize("kind", ["pem", "jwks"])
def test_admin_refuses_the_other_audiences_public_key(
    admin_client: Client,
    site: Site,
    keyring: Keyring,
    jwks_server: JwksServer,
    first_audience: str,
    kind: str,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    keys = (
        {"public_key": public_pem(keyring.rsa)} if kind == "pem" else {"jwks_url": jwks_server.url}
    )
    row(site, first_audience, keys).save()
    second_audience = "agent" if first_audience == "visitor" else "visitor"

    response = admin_client.post(
        "/admin/sso_jwt/jwtsettings/add/", admin_form(site, second_audience, **keys)
    )

    assert response.status_code == 200
    assert f"The {first_audience} JWT settings of this site already use this" in (
        response.content.decode()
    )
    assert not JwtSettings.objects.filter(audience=second_audience).exists()

    with JwksServer() as other_server:  # another URL, serving another key
        other_server.document = {"keys": [jwk(keyring.other_rsa, "k1", "RS256")]}
        fresh = (
            {"public_key": public_pem(keyring.other_rsa)}
            if kind == "pem"
            else {"jwks_url": other_server.url}
        )
        response = admin_client.post(
            "/admin/sso_jwt/jwtsettings/add/", admin_form(site, second_audience, **fresh)
        )
    assert response.status_code == 302
    assert JwtSettings.objects.filter(audience=second_audience).exists()


@pytest.mark.parametrize("first_audience", ["visitor", "agent"])
def test_admin_refuses_a_row_holding_the_other_audiences_secret(
    admin_client: Client, site: Site, keyring: Keyring, first_audience: str
) -> None:
    # The admin only ever generates a random secret; one copied in by other
    # means is caught when the row is next saved.
    second_audience = "agent" if first_audience == "visitor" else "visitor"
    row(site, first_audience, hs256(keyring.secret)).save()
    copied = row(site, second_audience, hs256(keyring.secret))
    copied.save()

    response = admin_client.post(
        f"/admin/sso_jwt/jwtsettings/{copied.pk}/change/",
        admin_form(site, second_audience, algorithm="HS256", enabled="on"),
    )

    assert response.status_code == 200
    assert f"The {first_audience} JWT settings of this site already use this shared secret" in (
        response.content.decode()
    )
    copied.refresh_from_db()
    assert not copied.enabled


@pytest.mark.parametrize("first_audience", ["visitor", "agent"])
@pytest.mark.parametrize(
    ("first", "second", "field", "words"),
    [
        ("pem", "jwks", "jwks_url", "trust a key that this JWKS URL serves"),
        ("jwks", "pem", "public_key", "trust a key that is this public key (served by their"),
        ("jwks", "other_jwks", "jwks_url", "trust a key that this JWKS URL serves (served by"),
        ("jwks", "pem_other", None, None),
    ],
)
def test_admin_compares_keys_a_jwks_url_serves(
    admin_client: Client,
    site: Site,
    keyring: Keyring,
    jwks_server: JwksServer,
    first_audience: str,
    first: str,
    second: str,
    field: str | None,
    words: str | None,
) -> None:
    jwks_server.document = {"keys": [jwk(keyring.rsa, "k1", "RS256")]}
    keys = {
        "pem": {"public_key": public_pem(keyring.rsa)},
        "pem_other": {"public_key": public_pem(keyring.other_rsa)},
        "jwks": {"jwks_url": jwks_server.url},
        "other_jwks": {"jwks_url": jwks_server.url.replace("jwks.json", "keys")},  # same server
    }
    row(site, first_audience, keys[first]).save()
    second_audience = "agent" if first_audience == "visitor" else "visitor"

    response = admin_client.post(
        "/admin/sso_jwt/jwtsettings/add/", admin_form(site, second_audience, **keys[second])
    )

    if field is None:
        assert response.status_code == 302
        assert JwtSettings.objects.filter(audience=second_audience).exists()
        return
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert f"The {first_audience} JWT settings of this site {words}" in " ".join(errors[field])
    assert not JwtSettings.objects.filter(audience=second_audience).exists()
