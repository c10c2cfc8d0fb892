"""Apply a site's field mappings at sign-in; default mappings for new sites.

A site's rules are loaded in one query and cached (the shared cache, so
every app server sees an edit at once: saving or deleting a mapping or a
variable drops the site's entry). A sign-in then costs one cache read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction

from mapping.mapper import MappingResult, Rule, SourceKind, map_fields
from mapping.models import BUILTIN_TYPES, CUSTOM_PREFIX, FieldMapping, Target
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Audience, Protocol, Site

logger = logging.getLogger(__name__)

# Short: bounds how long a rare race (a reader caching rules it loaded just
# before an edit committed) can serve the old rules.
CACHE_TIMEOUT = 300
SOURCE_KINDS = {Protocol.JWT: SourceKind.CLAIMS, Protocol.SAML: SourceKind.SAML}

RuleSets = dict[tuple[str, str], tuple[Rule, ...]]


@dataclass(frozen=True, slots=True)
class MappedFields:
    """Mapped values of one sign-in: built-in fields and custom variables."""

    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)


def _cache_key(site_pk: int) -> str:
    return f"mapping:rules:v1:{site_pk}"


def rules_load(*, site: Site) -> RuleSets:
    """Return ``site``'s rules by (audience, protocol), from the database."""
    rule_sets: dict[tuple[str, str], list[Rule]] = {}
    mappings = FieldMapping.objects.for_site(site).select_related("variable").order_by("pk")
    for mapping in mappings:
        rule_sets.setdefault((mapping.audience, mapping.protocol), []).append(mapping.rule())
    return {key: tuple(rules) for key, rules in rule_sets.items()}


def rules_for_site(*, site: Site) -> RuleSets:
    """Return ``site``'s rules, from the cache when it holds them."""
    key = _cache_key(site.pk)
    try:
        cached: RuleSets | None = cache.get(key)
    except Exception:  # the cache is an optimisation: any failure reads the database
        logger.warning("mapping rules cache unavailable", exc_info=True)
        return rules_load(site=site)
    if cached is None:
        cached = rules_load(site=site)
        try:
            cache.set(key, cached, CACHE_TIMEOUT)
        except Exception:
            logger.warning("mapping rules cache unavailable", exc_info=True)
    return cached


def rules_forget(*, site_pk: int) -> None:
    """Drop ``site``'s cached rules, now and again once the transaction commits."""
    key = _cache_key(site_pk)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def mapping_run(
    rules: tuple[Rule, ...], *, protocol: Protocol | str, claims: Mapping[str, Any]
) -> MappingResult:
    """Run the pure engine with the source kind of ``protocol``."""
    kind = SOURCE_KINDS.get(Protocol(protocol), SourceKind.CLAIMS)
    return map_fields(rules, claims, source_kind=kind)


def mapped_fields_split(values: Mapping[str, Any]) -> MappedFields:
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for target, value in values.items():
        if target.startswith(CUSTOM_PREFIX):
            custom[target.removeprefix(CUSTOM_PREFIX)] = value
        else:
            fields[target] = value
    return MappedFields(fields=fields, custom=custom)


def mapping_apply(
    *,
    site: Site,
    audience: Audience | str,
    protocol: Protocol | str,
    claims: Mapping[str, Any],
    subject: str = "",
) -> MappedFields:
    """Map ``claims`` with ``site``'s rules for ``audience`` and ``protocol``.

    Raise SignInRefused(MAPPING_FAILED) naming the fields (never their
    values) when a rule is not satisfied.
    """
    rules = rules_for_site(site=site).get((str(audience), str(protocol)), ())
    if not rules:
        return MappedFields()
    result = mapping_run(rules, protocol=protocol, claims=claims)
    if result.problems:
        logger.info(
            "mapping failed: site=%s audience=%s fields=%s",
            site.site_id,
            audience,
            ",".join(p.target for p in result.problems),
        )
        raise SignInRefused(
            RefusalReason.MAPPING_FAILED,
            site=site,
            audience=Audience(audience),
            protocol=Protocol(protocol),
            subject=subject,
            detail={
                "fields": [p.target for p in result.problems],
                "problems": [p.as_dict() for p in result.problems],
            },
        )
    return mapped_fields_split(result.values)


# Defaults for a new site: what most identity providers send under these names.
DEFAULT_MAPPINGS: list[tuple[str, str, str, str, bool]] = [
    # audience, protocol, source, target, lower-case
    (Audience.VISITOR, Protocol.JWT, "name", Target.NAME, False),
    (Audience.VISITOR, Protocol.JWT, "email", Target.EMAIL, True),
    (Audience.VISITOR, Protocol.JWT, "external_id", Target.EXTERNAL_ID, False),
    (Audience.VISITOR, Protocol.SAML, "displayName", Target.NAME, False),
    (Audience.VISITOR, Protocol.SAML, "mail", Target.EMAIL, True),
    (Audience.AGENT, Protocol.JWT, "name", Target.NAME, False),
    (Audience.AGENT, Protocol.SAML, "displayName", Target.NAME, False),
]


def mappings_default_create(*, site: Site) -> list[FieldMapping]:
    """Give ``site`` the default (optional) mappings it lacks."""
    existing = set(
        FieldMapping.objects.for_site(site).values_list("audience", "protocol", "target")
    )
    created = [
        FieldMapping(
            site=site,
            audience=audience,
            protocol=protocol,
            source=source,
            target=target,
            type=str(BUILTIN_TYPES[target]),
            lower=lower,
        )
        for audience, protocol, source, target, lower in DEFAULT_MAPPINGS
        if (audience, protocol, target) not in existing
    ]
    FieldMapping.objects.bulk_create(created)
    rules_forget(site_pk=site.pk)
    return created
