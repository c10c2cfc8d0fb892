"""Single-use identifiers (``tenants.services.token_consume*``): spent once
per site and kind, by the unique constraint, in the caller's transaction.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tenants.models import Site, UsedToken
from tenants.services import _SPEND_SQL, token_consume_in_transaction


class _RefusedError(Exception):
    pass


def _spend(site: Site, value: str) -> bool:
    """Spend ``value`` in a transaction of its own; roll back a refused one."""
    expires_at = timezone.now() + timedelta(minutes=5)
    try:
        with transaction.atomic():
            spent = token_consume_in_transaction(
                site=site, kind="saml_assertion", value=value, expires_at=expires_at
            )
            if not spent:
                # The failed INSERT broke the transaction: it must roll back.
                assert transaction.get_rollback()
                raise _RefusedError
    except _RefusedError:
        return False
    return True


def test_an_identifier_is_spent_once_per_site(site: Site, other_site: Site) -> None:
    assert _spend(site, "id-1")
    assert not _spend(site, "id-1")
    assert _spend(other_site, "id-1")
    row = UsedToken.objects.get(site=site)
    assert (row.kind, row.value) == ("saml_assertion", "id-1")
    assert row.expires_at > timezone.now()


def test_spending_needs_the_callers_transaction(transactional_db: None, site: Site) -> None:
    with pytest.raises(RuntimeError):
        token_consume_in_transaction(site=site, kind="jti", value="x", expires_at=timezone.now())


def test_the_insert_names_the_models_table_and_columns() -> None:
    meta = UsedToken._meta
    by_name = {field.name: field.column for field in meta.concrete_fields}
    columns = ", ".join(f'"{by_name[f]}"' for f in ("site", "kind", "value", "expires_at"))
    assert _SPEND_SQL.startswith(f'INSERT INTO "{meta.db_table}" ({columns}) VALUES')
