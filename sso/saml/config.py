"""Per-site SP configuration, built once per (site, audience, settings
version, host) and cached in the process.

Building a pysaml2 ``SPConfig`` parses the IdP metadata (a few ms); doing it
per request was the main cost of djangosaml2's defaults. The cache key
includes the settings' version (a digest of the stored row), so a change, in
the admin or by a queryset ``.update()``, takes effect on the next request
without a restart.

The cache is least-recently-used and bounded by memory: each entry is
charged an estimate of what it holds (``sp_config_bytes``, measured by
``bench.signin_floor``) against ``SSO_SAML_SP_CACHE_MB`` per process, so a
process serving thousands of sites keeps the ones in use. What every site's
configuration would hold alike (pysaml2's attribute converters, ~95 KB) is
built once and shared, and the SP key is parsed only when something signs.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.attribute_converter import ac_factory
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from typing_extensions import override

from sso.saml.crypto import security_context_build
from sso.saml.models import SamlSettings
from sso_site.secret_store import secret_decrypt
from tenants.models import Audience, Site
from tenants.selectors import site_get_by_public_id
from tenants.site_record import site_part

# Small leeway for clocks that are not quite in step, in seconds.
CLOCK_LEEWAY = 60
# Memory per process for cached SP configurations, in MB (README).
DEFAULT_CACHE_MB = 128
# What one cached configuration holds, measured with tracemalloc by
# ``bench.signin_floor`` (pysaml2 7.5): a fixed part, and the parsed IdP
# metadata, which grows with its size (an IdP that publishes a whole
# federation's metadata costs megabytes).
SP_CONFIG_BASE_BYTES = 40 * 1024
SP_CONFIG_BYTES_PER_METADATA_BYTE = 6

# Functions (settings, config dict) -> None that add to a site's SP
# configuration; apps above this one register theirs (lifecycle: the next SP
# certificate, published in metadata before the switch).
SP_CONFIG_HOOKS: list[Callable[[SamlSettings, dict[str, Any]], None]] = []

_lock = threading.Lock()
# Least recently used first; each value with the bytes it is charged.
_cache: OrderedDict[tuple[int, str, str, str], tuple[SPConfig, int]] = OrderedDict()
_cache_bytes = 0
_keydir: Path | None = None
# sp_urls(): (scheme, host, script prefix, site ID, audience) -> its URLs.
_urls: dict[tuple[str, str, str, int, str], dict[str, str]] = {}
_URLS_MAX = 10_000


_FIELDS = tuple(f.attname for f in SamlSettings._meta.concrete_fields)


def _enabled_values(site: Site, audience: Audience | str) -> tuple[Any, ...] | None:
    row = (
        SamlSettings.objects.for_site(site)
        .filter(audience=audience, enabled=True)
        .values_list(*_FIELDS)
        .first()
    )
    return tuple(row) if row is not None else None


def saml_settings_get(*, site: Site, audience: Audience | str) -> SamlSettings | None:
    """Return the enabled SAML settings of ``site`` for ``audience``, or None.

    From the site's record in this process while its version is current
    (``tenants.site_record``: every write of SAML settings gives the site a
    new one), as the JWT settings are; a new instance each call, so a
    caller may change it as it likes.
    """
    values = site_part(
        site.pk, f"saml:settings:{audience}", lambda: _enabled_values(site, audience)
    )
    if values is None:
        return None
    settings: SamlSettings = SamlSettings.from_db("default", _FIELDS, values)
    settings.site = site  # spare a query: callers use settings.site
    return settings


def saml_settings_get_by_public_id(
    *, site_id: int, audience: Audience | str
) -> tuple[Site | None, SamlSettings | None]:
    """Return the site whose public ID is ``site_id`` (active or not) and
    its enabled SAML settings for ``audience``; either may be None.

    Both from the site's record (one version read in Redis, no query once
    this process holds it).
    """
    site = site_get_by_public_id(site_id=site_id)
    return site, saml_settings_get(site=site, audience=audience) if site is not None else None


def sp_urls(request: HttpRequest, *, site: Site, audience: Audience | str) -> dict[str, str]:
    """Return the absolute entity ID (metadata URL), ACS and SLS URLs.

    Remembered per scheme, host (one ``ALLOWED_HOSTS`` admits), script
    prefix, site and audience: the URLconf does not change while the process
    runs, and three ``reverse()`` calls cost more than the rest of the ACS's
    own checks on the response.
    """
    key = (request.scheme or "", request.get_host(), get_script_prefix(), site.site_id, audience)
    urls = _urls.get(key)
    if urls is None:
        kwargs = {"site_id": site.site_id}
        urls = {
            name: request.build_absolute_uri(reverse(f"sso:{audience}-saml-{name}", kwargs=kwargs))
            for name in ("metadata", "acs", "sls")
        }
        if len(_urls) >= _URLS_MAX:
            _urls.clear()
        _urls[key] = urls
    return dict(urls)


def sp_config_get(request: HttpRequest, *, settings: SamlSettings) -> SPConfig:
    """Return the cached SP configuration for ``settings`` at this host."""
    key = (settings.site_id, str(settings.audience), settings.version, request.get_host())
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            return entry[0]
    # Built outside the lock: one slow site does not hold up the others; two
    # requests racing for the same new entry build it twice, harmlessly.
    urls = sp_urls(request, site=settings.site, audience=settings.audience)
    conf = _build(settings, urls)
    _cache_put(key, conf, sp_config_bytes(settings))
    return conf


def sp_config_bytes(settings: SamlSettings) -> int:
    """Return the memory a cached configuration of ``settings`` is charged."""
    metadata = len(settings.idp_metadata_xml)
    return SP_CONFIG_BASE_BYTES + SP_CONFIG_BYTES_PER_METADATA_BYTE * metadata


def sp_cache_budget() -> int:
    """Return the bytes the cache may hold in this process."""
    megabytes = getattr(django_settings, "SSO_SAML_SP_CACHE_MB", DEFAULT_CACHE_MB)
    return int(float(megabytes) * 2**20)


def sp_cache_stats() -> dict[str, int]:
    """Return the cache's entries, the bytes they are charged, its budget."""
    with _lock:
        return {"entries": len(_cache), "bytes": _cache_bytes, "budget": sp_cache_budget()}


def _cache_put(key: tuple[int, str, str, str], conf: SPConfig, size: int) -> None:
    global _cache_bytes
    budget = sp_cache_budget()
    with _lock:
        # Older versions of this site's settings at this host (and a racing
        # twin of this entry) are dead weight.
        for stale in [k for k in _cache if (k[0], k[1], k[3]) == (key[0], key[1], key[3])]:
            _cache_bytes -= _cache.pop(stale)[1]
        # The least recently used go first; the newest entry always stays,
        # even alone over the budget.
        while _cache and _cache_bytes + size > budget:
            _cache_bytes -= _cache.popitem(last=False)[1][1]
        _cache[key] = (conf, size)
        _cache_bytes += size


def sp_config_cache_clear() -> None:
    """Forget every cached configuration (tests)."""
    global _cache_bytes
    with _lock:
        _cache.clear()
        _cache_bytes = 0


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


class SiteSPConfig(SPConfig):  # type: ignore[misc]
    """pysaml2's SP configuration, lighter to build and to keep."""

    @override
    def load_complex(self, cnf: dict[str, Any]) -> None:
        # pysaml2 builds its attribute converters (~95 KB of maps, the same
        # for every site) per configuration: share one set. They are only
        # read once built.
        self.setattr("", "attribute_converters", _attribute_converters())
        self.setattr("", "metadata", self.load_metadata(cnf["metadata"]))
        for service, spec in cnf.get("service", {}).items():
            self.setattr(service, "policy", Policy(spec.get("policy"), self.metadata))

    @override
    def load_metadata(self, metadata_conf: dict[str, Any]) -> Any:
        # The metadata store makes its own security context, which parses
        # (and validates: ~36 ms) the SP key, to check signed metadata it
        # fetches itself. Ours is inline, checked on save; it needs no key.
        key_file: str | None = getattr(self, "key_file", None)
        self.key_file = None
        try:
            return super().load_metadata(metadata_conf)
        finally:
            self.key_file = key_file

    @functools.cached_property
    def sso_signing_key(self) -> Any:
        """Return the SP's private key, for our own signatures
        (``sso.saml.signing``): never pysaml2's process-wide signers.

        Parsed on first use (sign-in requests where the site signs them,
        logout), not per configuration. The RSA consistency checks are
        skipped (they cost ~36 ms): the key is our own, generated here and
        stored under authenticated encryption, not input from outside.
        """
        return serialization.load_pem_private_key(
            Path(str(self.key_file)).read_bytes(),
            password=None,
            unsafe_skip_rsa_key_validation=True,
        )


@functools.cache
def _attribute_converters() -> list[Any]:
    converters: list[Any] = ac_factory()
    for converter in converters:
        converter.adjust()  # its reverse maps, filled now rather than on first use
    return converters


def _build(settings: SamlSettings, urls: dict[str, str]) -> SPConfig:
    conf = SiteSPConfig()
    config = _config_dict(settings, urls)
    for hook in SP_CONFIG_HOOKS:
        hook(settings, config)
    conf.load(config)
    conf.sso_security_context = security_context_build(conf)
    conf.sso_settings_version = settings.version
    return conf
