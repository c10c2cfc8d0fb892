"""Per-site SP configuration, built once per (site, audience, settings
version, host) and cached in the process.

Building a pysaml2 ``SPConfig`` parses the IdP metadata and loading the SP key
is slow (tens of ms, see PERF_NOTES); doing it per request was the main cost
of djangosaml2's defaults. The cache key includes the settings' version (a
digest of the stored row), so a change, in the admin or by a queryset
``.update()``, takes effect on the next request without a restart.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sso.saml.crypto import security_context_build
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_decrypt
from tenants.models import Audience, Site

# Small leeway for clocks that are not quite in step, in seconds.
CLOCK_LEEWAY = 60
CACHE_MAX = 256

# Functions (settings, config dict) -> None that add to a site's SP
# configuration; apps above this one register theirs (lifecycle: the next SP
# certificate, published in metadata before the switch).
SP_CONFIG_HOOKS: list[Callable[[SamlSettings, dict[str, Any]], None]] = []

_lock = threading.Lock()
_cache: dict[tuple[int, str, str, str], SPConfig] = {}
_keydir: Path | None = None


def saml_settings_get(*, site: Site, audience: Audience | str) -> SamlSettings | None:
    """Return the enabled SAML settings of ``site`` for ``audience``, or None."""
    settings: SamlSettings | None = (
        SamlSettings.objects.for_site(site).filter(audience=audience, enabled=True).first()
    )
    if settings is not None:
        settings.site = site
    return settings


def saml_settings_get_by_public_id(
    *, site_id: int, audience: Audience | str
) -> SamlSettings | None:
    """Return the enabled SAML settings for ``audience`` of the site whose
    public ID is ``site_id``, with the site, in one query; or None.

    The whole row: deferring its bulky columns (metadata, certificates,
    key) and loading their digests instead costs more in the ORM than
    their few kB cost to read (bench.saml_acs_profile).
    """
    settings: SamlSettings | None = (
        SamlSettings.objects.filter(site__site_id=site_id, audience=audience, enabled=True)
        .select_related("site")
        .first()
    )
    return settings


def sp_urls(request: HttpRequest, *, site: Site, audience: Audience | str) -> dict[str, str]:
    """Return the absolute entity ID (metadata URL), ACS and SLS URLs."""
    kwargs = {"site_id": site.site_id}
    return {
        name: request.build_absolute_uri(reverse(f"sso:{audience}-saml-{name}", kwargs=kwargs))
        for name in ("metadata", "acs", "sls")
    }


def sp_config_get(request: HttpRequest, *, settings: SamlSettings) -> SPConfig:
    """Return the cached SP configuration for ``settings`` at this host."""
    key = (settings.site_id, str(settings.audience), settings.version, request.get_host())
    conf = _cache.get(key)
    if conf is None:
        with _lock:
            conf = _cache.get(key)
            if conf is None:
                urls = sp_urls(request, site=settings.site, audience=settings.audience)
                conf = _build(settings, urls)
                # Older versions of this site's settings are dead weight; and
                # the cache stays bounded (oldest first) however many sites.
                for stale in [k for k in _cache if k[:2] == key[:2]]:
                    del _cache[stale]
                while len(_cache) >= CACHE_MAX:
                    del _cache[next(iter(_cache))]
                _cache[key] = conf
    return conf


def sp_config_cache_clear() -> None:
    """Forget every cached configuration (tests)."""
    with _lock:
        _cache.clear()


def _key_files(settings: SamlSettings) -> tuple[str, str]:
    global _keydir
    if _keydir is None:
        _keydir = Path(tempfile.mkdtemp(prefix="sso-saml-"))
        atexit.register(shutil.rmtree, _keydir, ignore_errors=True)
    stem = _keydir / f"sp-{settings.pk}-{settings.audience}"
    key_file, cert_file = stem.with_suffix(".key"), stem.with_suffix(".crt")
    # The only place the SP key is decrypted; the result is cached.
    key_pem = secret_decrypt(settings.sp_private_key_encrypted)
    if key_pem is None:
        raise ImproperlyConfigured(
            f"SAML settings {settings.pk}: the SP private key does not decrypt under "
            "SECRET_KEY or SECRET_KEY_FALLBACKS; save the settings again for a new key pair"
        )
    key_file.touch(mode=0o600)
    key_file.write_text(key_pem)
    cert_file.write_text(settings.sp_certificate)
    return str(key_file), str(cert_file)


def _config_dict(settings: SamlSettings, urls: dict[str, str]) -> dict[str, Any]:
    key_file, cert_file = _key_files(settings)
    return {
        "entityid": urls["metadata"],
        "key_file": key_file,
        "cert_file": cert_file,
        "accepted_time_diff": CLOCK_LEEWAY,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "metadata": {"inline": [settings.idp_metadata_xml]},
        # Keep attributes pysaml2 has no friendly name for (an IdP's custom
        # ones, e.g. a membership level) under their own names, for the
        # site's field mappings; they are as signed as the rest.
        "allow_unknown_attributes": True,
        # The SP key also decrypts, where the site turned encryption on:
        # pysaml2 then publishes it as use="encryption" in the SP metadata.
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}]
        if settings.assertions_encrypted
        else None,
        "service": {
            "sp": {
                "name": f"{settings.site.name} ({settings.get_audience_display()})",
                "endpoints": {
                    "assertion_consumer_service": [(urls["acs"], BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (urls["sls"], BINDING_HTTP_REDIRECT),
                        (urls["sls"], BINDING_HTTP_POST),
                    ],
                },
                "idp": {settings.idp_entity_id: None},
                # The assertion itself must be signed: a signed Response
                # around an unsigned assertion is not enough here.
                "want_assertions_signed": True,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": settings.allow_idp_initiated,
                # Signed in sso.saml.starter where the site asks for it;
                # logout messages are always signed (SAML Profiles 4.4.4).
                "authn_requests_signed": settings.authn_requests_signed,
                "logout_requests_signed": True,
                "only_use_keys_in_metadata": True,
                "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                "name_id_format_allow_create": False,
                # Ask for MFA up front where the site requires it; the ACS
                # still checks the AuthnContextClassRef it gets back.
                "requested_authn_context": {
                    "authn_context_class_ref": settings.mfa_context_list,
                    "comparison": "exact",
                }
                if settings.mfa_required
                else {},
            }
        },
    }


def _build(settings: SamlSettings, urls: dict[str, str]) -> SPConfig:
    conf = SPConfig()
    config = _config_dict(settings, urls)
    for hook in SP_CONFIG_HOOKS:
        hook(settings, config)
    conf.load(config)
    conf.sso_security_context = security_context_build(conf)
    # Our own signatures (sso.saml.signing) take the key from here, per
    # call: never pysaml2's process-wide signer objects.
    conf.sso_signing_key = serialization.load_pem_private_key(
        Path(conf.key_file).read_bytes(), password=None
    )
    conf.sso_settings_version = settings.version
    return conf
