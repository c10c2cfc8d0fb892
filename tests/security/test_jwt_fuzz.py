"""Whatever arrives as ``jwt``, the callback answers with the refusal page
(or a sign-in), never a server error and never a half-written session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants.models import Agent, Site
from tests.fixtures.jwt import (
    JwtFactory,
    Keyring,
    callback_url,
    reason_on_page,
    session_binding,
)
from tests.security.test_jwt_attacks import hand_made

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

claim_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
claim_names = st.sampled_from(["iat", "exp", "nbf", "jti", "email", "iss", "aud", "amr", "name"])


def assert_clean_answer(response: Any, client: Client) -> None:
    assert response.status_code in {302, 400, 403}
    if response.status_code == 302:
        assert session_binding(client) is not None
    else:
        assert reason_on_page(response)
        assert session_binding(client) is None


@FUZZ
@given(claims=st.dictionaries(claim_names, claim_values, max_size=9))
def test_signed_tokens_with_odd_claims_never_break_the_callback(
    site: Site,
    jwt_agent: Agent,
    jwt_configure: Any,
    jwt_factory: JwtFactory,
    keyring: Keyring,
    claims: dict[str, Any],
) -> None:
    if not hasattr(site, "_fuzz_configured"):
        jwt_configure(site, "HS256")
        site._fuzz_configured = True  # type: ignore[attr-defined]
    client = Client()
    # Valid claims, then the fuzzed ones over them, signed by hand: PyJWT's
    # encoder would refuse some (a list as iss); JSON allows NaN/Infinity.
    valid = jwt.decode(jwt_factory(site, "HS256"), options={"verify_signature": False})
    secret = keyring.secret.encode()
    token = hand_made(
        {"alg": "HS256", "typ": "JWT"},
        {**valid, **claims},
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )
    assert_clean_answer(client.get(callback_url(site), {"jwt": token}), client)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@FUZZ
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]), claim_values),
    payload=st.binary(max_size=200),
    signature=st.binary(max_size=80),
    raw=st.text(max_size=200),
)
def test_garbage_never_breaks_the_callback(
    site: Site,
    jwt_configure: Any,
    header: dict[str, Any],
    payload: bytes,
    signature: bytes,
    raw: str,
) -> None:
    if not hasattr(site, "_fuzz_configured"):
        jwt_configure(site, "RS256")
        site._fuzz_configured = True  # type: ignore[attr-defined]
    forged = f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(signature)}"
    for token in (forged, raw):
        client = Client()
        response = client.post(callback_url(site), {"jwt": token})
        assert response.status_code in {400, 403}
        assert reason_on_page(response)
        assert session_binding(client) is None
