"""Drop the single-column site indexes of LoginEvent and UsedToken.

Each is covered by a wider index that leads with the site, and each was
written on every sign-in. Only the indexes go: Django's AlterField would also
drop and re-add the foreign keys, checking every row of two large tables
under lock.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "tenants_loginevent": "tenants_loginevent_site_id_cb299dd2",
    "tenants_usedtoken": "tenants_usedtoken_site_id_eebcdcef",
}


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0007_agent_source_last_sync"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("site_id")',
                )
                for table, index in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="loginevent",
                    name="site",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="login_events",
                        to="tenants.site",
                    ),
                ),
                migrations.AlterField(
                    model_name="usedtoken",
                    name="site",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.site",
                    ),
                ),
            ],
        ),
    ]
