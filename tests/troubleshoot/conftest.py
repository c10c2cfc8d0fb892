"""Fixtures of the SAML and JWT suites, an operator of site A and an admin
request factory for dry runs.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from tenants.models import Site
from tenants.services import operator_grant
from tests.security.test_saml_attacks import strict_sp  # noqa: F401 - fixture
from tests.sso.jwt.conftest import jwt_agent, jwt_configure, jwt_factory, keyring  # noqa: F401
from tests.sso.saml.conftest import (  # noqa: F401 - fixtures shared with the SAML tests
    _fresh_sp_cache,
    idp_a,
    idp_b,
    idp_key_dir,
    rogue_idp,
    saml_other_site,
    saml_response_factory,
    saml_site,
)


@pytest.fixture
def operator(site: Site) -> User:
    user = User.objects.create_user("op-a", "op@a.example", "pw", is_staff=True)
    operator_grant(site=site, user=user)
    return user


@pytest.fixture
def op_client(operator: User) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def admin_request() -> object:
    """A request to the console, as a dry run receives it (host: testserver)."""
    return RequestFactory().post("/admin/troubleshoot/")
