"""The JWT fixtures of tests/sso/jwt, for the attack tables."""

from __future__ import annotations

from tests.sso.jwt.conftest import jwt_agent, jwt_configure, jwt_factory, keyring

__all__ = ["jwt_agent", "jwt_configure", "jwt_factory", "keyring"]
