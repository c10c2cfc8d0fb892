"""Writes of SAML settings: validate what the admin entered and derive what
the SP configuration reads.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from sso.saml.metadata import (
    certificate_check,
    idp_metadata_build,
    idp_metadata_fetch,
    idp_metadata_parse,
    sp_key_pair_generate,
)
from sso.saml.models import SamlSettings
from sso.secret_store import secret_encrypt, secret_rotate


def saml_settings_prepare(settings: SamlSettings) -> None:
    """Validate ``settings`` and fill in the derived metadata and SP keys.

    Raise ValidationError, keyed by the field at fault, with a precise
    message; nothing is saved then.
    """
    source = settings.source
    if source == SamlSettings.Source.URL:
        if not settings.metadata_url:
            raise ValidationError({"metadata_url": "Enter the IdP's metadata URL."})
        xml = _field_error("metadata_url", idp_metadata_fetch, settings.metadata_url)
        _field_error("metadata_url", idp_metadata_parse, xml)
        settings.metadata_xml = xml
    elif source == SamlSettings.Source.XML:
        if not settings.metadata_xml.strip():
            raise ValidationError({"metadata_xml": "Paste the IdP's metadata XML."})
        xml = settings.metadata_xml.strip()
        _field_error("metadata_xml", idp_metadata_parse, xml)
    else:
        xml = _manual_metadata(settings)
    description = idp_metadata_parse(xml)
    settings.idp_metadata_xml = xml
    settings.idp_entity_id = description.entity_id
    if settings.mfa_required and not settings.mfa_context_list:
        raise ValidationError(
            {"mfa_context_refs": "List at least one AuthnContextClassRef when MFA is required."}
        )
    if settings.sp_private_key_encrypted:
        # Re-encrypted under the current SECRET_KEY on every save; a key that
        # no SECRET_KEY(_FALLBACKS) decrypts any more is replaced below.
        settings.sp_private_key_encrypted = secret_rotate(settings.sp_private_key_encrypted) or ""
    if not settings.sp_private_key_encrypted:
        key_pem, settings.sp_certificate = sp_key_pair_generate(
            common_name=f"sso-{settings.site.site_id}-{settings.audience}"
        )
        settings.sp_private_key_encrypted = secret_encrypt(key_pem)


def _manual_metadata(settings: SamlSettings) -> str:
    errors: dict[str, str] = {}
    if not settings.idp_entity_id:
        errors["idp_entity_id"] = "Enter the IdP's entity ID."
    if not settings.sso_url:
        errors["sso_url"] = "Enter the IdP's single sign-on URL."
    if not settings.signing_cert.strip():
        errors["signing_cert"] = "Paste the IdP's signing certificate."
    if errors:
        raise ValidationError(errors)
    certs = [settings.signing_cert]
    _field_error("signing_cert", certificate_check, settings.signing_cert, label="certificate")
    if settings.signing_cert_next.strip():
        _field_error(
            "signing_cert_next",
            certificate_check,
            settings.signing_cert_next,
            label="second certificate",
        )
        certs.append(settings.signing_cert_next)
    return idp_metadata_build(
        entity_id=settings.idp_entity_id,
        sso_url=settings.sso_url,
        sso_binding=settings.sso_binding,
        slo_url=settings.slo_url,
        certificates=certs,
    )


def _field_error(field: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
