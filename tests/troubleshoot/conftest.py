"""An operator of site A and an admin request factory for dry runs (the SAML
and JWT fixtures come from tests/fixtures, loaded by tests/conftest.py).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from tenants.models import Site
from tenants.services import operator_grant


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
