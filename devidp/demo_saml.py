"""The development IdP's identity, and the demo site's SAML settings.

Keys are generated at first use into ``var/devidp/`` (git-ignored), so no
key is ever committed and ``make run`` needs nothing installed.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from devidp.idp import MFA_CONTEXT, DevIdp

DEMO_SITE_ID = 10001
KEY_DIR = Path(settings.BASE_DIR) / "var" / "devidp"


def dev_idp(*, base_url: str) -> DevIdp:
    """Return the development IdP at ``base_url``, creating its keys once."""
    key_file, cert_file = KEY_DIR / "idp.key", KEY_DIR / "idp.crt"
    if not key_file.exists() or not cert_file.exists():
        from sso.saml.metadata import sp_key_pair_generate

        KEY_DIR.mkdir(parents=True, exist_ok=True)
        key_pem, cert_pem = sp_key_pair_generate(common_name="Development IdP")
        key_file.touch(mode=0o600)
        key_file.write_text(key_pem)
        cert_file.write_text(cert_pem)
    root = f"{base_url.rstrip('/')}/dev-idp"
    return DevIdp(
        entity_id=f"{root}/metadata/",
        sso_url=f"{root}/sso/",
        slo_url=f"{root}/slo/",
        key_file=str(key_file),
        cert_file=str(cert_file),
    )


def configure(*, base_url: str) -> list[str]:
    """Point the demo site's agent and visitor SAML at the development IdP;
    return the lines ``demo_setup`` prints.
    """
    from sso.saml.models import SamlSettings
    from sso.saml.services import saml_settings_save
    from tenants.models import Audience, Site

    site = Site.objects.get(site_id=DEMO_SITE_ID)
    metadata_xml = dev_idp(base_url=base_url).metadata_xml()
    for audience in (Audience.AGENT, Audience.VISITOR):
        saml = SamlSettings.objects.filter(site=site, audience=audience).first()
        saml = saml or SamlSettings(site=site, audience=audience)
        saml.enabled = True
        saml.source = SamlSettings.Source.XML
        saml.metadata_xml = metadata_xml
        saml.mfa_context_refs = MFA_CONTEXT
        saml_settings_save(saml)
    return [
        f"  Agent SAML:      site {DEMO_SITE_ID} signs in via the development IdP "
        f"({base_url}/dev-idp/metadata/)",
        f"  Visitor SAML:    site {DEMO_SITE_ID}'s visitor SP answered by the same IdP "
        "(demo visitors)",
    ]
