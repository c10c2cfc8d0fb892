"""Writes of SAML settings and their side effects: fetching a metadata URL,
deriving the metadata the SP configuration reads, and the SP key pair.

``SamlSettings.clean()`` validates what was entered without side effects;
the admin calls ``saml_settings_metadata_derive`` while validating its form
(so a fetch error is shown on the field) and ``saml_settings_keys_ensure``
when it saves; anything else saves through ``saml_settings_save``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sso.saml.metadata import (
    idp_metadata_build,
    idp_metadata_fetch,
    idp_metadata_parse,
    idp_metadata_with_certificate,
    sp_key_pair_generate,
)
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_encrypt, secret_rotate


def saml_settings_save(settings: SamlSettings) -> SamlSettings:
    """Validate ``settings``, derive its metadata and keys, and save it.

    Raise ValidationError, keyed by the field at fault; nothing is saved then.
    """
    settings.full_clean()
    saml_settings_metadata_derive(settings)
    with transaction.atomic():
        saml_settings_keys_ensure(settings)
        settings.save()
    return settings


def saml_settings_metadata_derive(settings: SamlSettings) -> None:
    """Fill in ``idp_metadata_xml`` and ``idp_entity_id`` from the source the
    admin chose (fetching a metadata URL), with the second signing
    certificate added in every mode. Raise ValidationError by field.
    """
    source = settings.source
    if source == SamlSettings.Source.URL:
        xml = _field_error("metadata_url", idp_metadata_fetch, settings.metadata_url)
        _field_error("metadata_url", idp_metadata_parse, xml)
        settings.metadata_xml = xml
    elif source == SamlSettings.Source.XML:
        xml = settings.metadata_xml.strip()
        _field_error("metadata_xml", idp_metadata_parse, xml)
    else:
        xml = idp_metadata_build(
            entity_id=settings.idp_entity_id,
            sso_url=settings.sso_url,
            sso_binding=settings.sso_binding,
            slo_url=settings.slo_url,
            certificates=[settings.signing_cert],
        )
    if settings.signing_cert_next.strip():
        xml = _field_error(
            "signing_cert_next", idp_metadata_with_certificate, xml, settings.signing_cert_next
        )
    description = _field_error("signing_cert_next", idp_metadata_parse, xml)
    settings.idp_metadata_xml = xml
    settings.idp_entity_id = description.entity_id


def saml_settings_keys_ensure(settings: SamlSettings) -> None:
    """Give ``settings`` an SP key pair: its key re-encrypted under the
    current SECRET_KEY, or a new pair if none (or none that decrypts).
    """
    if settings.sp_private_key_encrypted:
        settings.sp_private_key_encrypted = secret_rotate(settings.sp_private_key_encrypted) or ""
    if not settings.sp_private_key_encrypted:
        key_pem, settings.sp_certificate = sp_key_pair_generate(
            common_name=f"sso-{settings.site.site_id}-{settings.audience}"
        )
        settings.sp_private_key_encrypted = secret_encrypt(key_pem)


def _field_error(field: str, func: Callable[..., Any], *args: Any) -> Any:
    try:
        return func(*args)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
