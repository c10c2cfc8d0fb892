"""SP certificate renewal with overlap: the next certificate is published in
the SP metadata before the switch, then becomes the only one.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.utils import timezone

from devidp.saml_kit import idp_create, saml_settings_create
from lifecycle.models import SpCertificateRenewal
from lifecycle.sp_renewal import sp_renewal_start, sp_renewals_finish
from sso.saml.config import sp_config_cache_clear
from tenants.models import Agent, Site
from tests.lifecycle.kit import saml_sign_in


def _body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


def _metadata(site: Site) -> str:
    sp_config_cache_clear()
    return Client().get(f"/sso/{site.site_id}/agent/saml/metadata/").content.decode()


def test_next_sp_certificate_is_published_before_the_switch(
    site: Site, agent: Agent, tmp_path: Path
) -> None:
    idp = idp_create(tmp_path, "idp-sp-renewal")
    saml = saml_settings_create(site, idp)
    current = saml.sp_certificate

    renewal = sp_renewal_start(
        site=site, saml_settings=saml, switch_at=timezone.now() + timedelta(days=14)
    )

    metadata = _metadata(site)
    assert _body(current) in metadata
    assert _body(renewal.next_certificate) in metadata
    assert saml_sign_in(site, idp, idp).status_code == 302
    assert sp_renewals_finish() == 0  # not yet

    assert sp_renewals_finish(now=timezone.now() + timedelta(days=15)) == 1
    saml.refresh_from_db()
    assert saml.sp_certificate == renewal.next_certificate
    assert not SpCertificateRenewal.objects.exists()
    metadata = _metadata(site)
    assert _body(current) not in metadata
    assert _body(renewal.next_certificate) in metadata
    assert saml_sign_in(site, idp, idp).status_code == 302
