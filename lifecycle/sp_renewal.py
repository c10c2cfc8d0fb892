"""SP certificate renewal with overlap: publish the next certificate in the
SP metadata, then switch to it once the IdP has had time to read it.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from lifecycle.models import SpCertificateRenewal
from sso.saml.metadata import sp_key_pair_generate
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_decrypt, secret_encrypt
from tenants.models import Site

_certdir: Path | None = None


def sp_renewal_start(
    *, site: Site, saml_settings: SamlSettings, switch_at: datetime
) -> SpCertificateRenewal:
    """Make the next SP key pair of ``saml_settings`` and publish its certificate."""
    if saml_settings.site_id != site.pk:
        raise ValueError("an object of another site")
    key_pem, cert_pem = sp_key_pair_generate(
        common_name=f"sso-{site.site_id}-{saml_settings.audience}"
    )
    renewal, _ = SpCertificateRenewal.objects.update_or_create(
        saml_settings=saml_settings,
        defaults={
            "site": site,
            "switch_at": switch_at,
            "next_private_key_encrypted": secret_encrypt(key_pem),
            "next_certificate": cert_pem,
        },
    )
    # A new settings version: cached SP configurations are rebuilt.
    saml_settings.save(update_fields=["updated_at"])
    return renewal


def sp_renewal_finish(*, site: Site, renewal: SpCertificateRenewal) -> None:
    """Switch ``renewal``'s SAML settings to the next key pair."""
    if renewal.site_id != site.pk:
        raise ValueError("an object of another site")
    saml_settings = renewal.saml_settings
    saml_settings.sp_private_key_encrypted = renewal.next_private_key_encrypted
    saml_settings.sp_certificate = renewal.next_certificate
    renewal.delete()
    saml_settings.save(update_fields=["sp_private_key_encrypted", "sp_certificate", "updated_at"])


def sp_renewals_finish(*, now: datetime | None = None) -> int:
    """Switch every renewal whose time has come; return how many."""
    due = SpCertificateRenewal.objects.filter(switch_at__lte=now or timezone.now())
    count = 0
    for renewal in due.select_related("site", "saml_settings"):
        sp_renewal_finish(site=renewal.site, renewal=renewal)
        count += 1
    return count


def sp_next_certificate_add(saml_settings: SamlSettings, config: dict[str, Any]) -> None:
    """SP configuration hook: publish the next certificate, if any, in metadata;
    where assertions are encrypted, let the next key decrypt too (an IdP
    that read the new metadata may encrypt to it before the switch).
    """
    renewal = SpCertificateRenewal.objects.filter(saml_settings_id=saml_settings.pk).first()
    if renewal is None:
        return
    global _certdir
    if _certdir is None:
        _certdir = Path(tempfile.mkdtemp(prefix="sso-sp-next-"))
    digest = hashlib.sha256(renewal.next_certificate.encode()).hexdigest()[:16]
    cert_file = _certdir / f"next-{digest}.crt"
    cert_file.write_text(renewal.next_certificate)
    config["additional_cert_files"] = [str(cert_file)]
    key_pem = secret_decrypt(renewal.next_private_key_encrypted)
    if config.get("encryption_keypairs") and key_pem is not None:
        key_file = _certdir / f"next-{digest}.key"
        key_file.touch(mode=0o600)
        key_file.write_text(key_pem)
        config["encryption_keypairs"] = [
            *config["encryption_keypairs"],
            {"key_file": str(key_file), "cert_file": str(cert_file)},
        ]
