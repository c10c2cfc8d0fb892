"""Migration 0005 fills the identity key of existing agents and reports any
collision instead of merging the agents (issue 10).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tenants", "0004_protocol_without_password")]
AFTER = [("tenants", "0005_agent_email_key")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_keys_and_reports_collisions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    site = old.get_model("tenants", "Site").objects.create(site_id=30001, name="Old")
    agent_model = old.get_model("tenants", "Agent")
    # Distinct under the old Lower(email) constraint, one identity under the key.
    first = agent_model.objects.create(site=site, email="Ann@b\u00fccher.example")
    second = agent_model.objects.create(site=site, email="ann@xn--bcher-kva.example")
    lookalike = agent_model.objects.create(site=site, email="al\u0131ce@a.example")
    plain = agent_model.objects.create(site=site, email="Bob@A.example")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps.get_model("tenants", "Agent")
    keys = dict(new.objects.values_list("pk", "email_key"))
    assert keys == {
        first.pk: "ann@xn--bcher-kva.example",
        second.pk: None,  # not merged into the first: left for an operator
        lookalike.pk: None,
        plain.pk: "bob@a.example",
    }
    report = capsys.readouterr().out
    assert f"agent pk={second.pk} site pk={site.pk}: same identity as agent pk={first.pk}" in report
    assert f"agent pk={lookalike.pk} site pk={site.pk}: no key (not_allowed)" in report
    assert "ann@" not in report  # no personal data in the report

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
