"""Store the SP private keys encrypted (see sso_site.secret_store)."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from sso_site.secret_store import secret_decrypt, secret_encrypt

PEM_MARK = "PRIVATE KEY"


def _encrypt_keys(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("sso_saml", "SamlSettings")
    for row in model.objects.exclude(sp_private_key_encrypted=""):
        if PEM_MARK in row.sp_private_key_encrypted:
            row.sp_private_key_encrypted = secret_encrypt(row.sp_private_key_encrypted)
            row.save(update_fields=["sp_private_key_encrypted"])


def _decrypt_keys(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("sso_saml", "SamlSettings")
    for row in model.objects.exclude(sp_private_key_encrypted=""):
        if PEM_MARK not in row.sp_private_key_encrypted:
            pem = secret_decrypt(row.sp_private_key_encrypted)
            if pem is None:
                raise RuntimeError(f"SAML settings {row.pk}: the SP key does not decrypt")
            row.sp_private_key_encrypted = pem
            row.save(update_fields=["sp_private_key_encrypted"])


class Migration(migrations.Migration):
    dependencies = [
        ("sso_saml", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="samlsettings",
            old_name="sp_private_key",
            new_name="sp_private_key_encrypted",
        ),
        migrations.RunPython(_encrypt_keys, _decrypt_keys),
    ]
