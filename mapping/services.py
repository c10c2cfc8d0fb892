"""Apply a site's field mappings at sign-in; default mappings for new sites.

A site's rules are loaded in one query and kept in each process, tagged with
the site's rules version, a token in the shared cache. Saving or deleting a
mapping or a variable writes a new token once the transaction commits, so
every app server reloads at its next sign-in of that site. A sign-in then
costs one small cache read (the version) and no query.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction

from mapping.mapper import MappingResult, Rule, SourceKind, map_fields
from mapping.models import BUILTIN_TYPES, CUSTOM_PREFIX, FieldMapping, Target
from tenants.models import Audience, Protocol, Site

logger = logging.getLogger(__name__)

# A version that expires only costs each process one reload.
VERSION_TIMEOUT = 7 * 24 * 3600
LOCAL_MAX_SITES = 10_000
SOURCE_KINDS = {Protocol.JWT: SourceKind.CLAIMS, Protocol.SAML: SourceKind.SAML}

RuleSets = dict[tuple[str, str], tuple[Rule, ...]]

# site pk -> (version token, rules): this process's copy.
_local_rules: dict[int, tuple[str, RuleSets]] = {}


class MappingRefusedError(Exception):
    """A site's mapping rules are not satisfied by the claims of a sign-in.

    Carries the failing fields and problems (never their values); the
    session layer translates it into its refusal, so the mapping layer
    knows nothing of sessions.
    """

    def __init__(self, *, fields: list[str], problems: list[dict[str, str]]) -> None:
        super().__init__(",".join(fields))
        self.fields = fields
        self.problems = problems


@dataclass(frozen=True, slots=True)
class MappedFields:
    """Mapped values of one sign-in: built-in fields and custom variables."""

    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)


def _version_key(site_pk: int) -> str:
    return f"mapping:rules-version:{site_pk}"


def rules_load(*, site: Site) -> RuleSets:
    """Return ``site``'s rules by (audience, protocol), from the database."""
    rule_sets: dict[tuple[str, str], list[Rule]] = {}
    mappings = FieldMapping.objects.for_site(site).select_related("variable").order_by("pk")
    for mapping in mappings:
        rule_sets.setdefault((mapping.audience, mapping.protocol), []).append(mapping.rule())
    return {key: tuple(rules) for key, rules in rule_sets.items()}


def rules_for_site(*, site: Site) -> RuleSets:
    """Return ``site``'s rules: this process's copy while its version is current."""
    key = _version_key(site.pk)
    try:
        version: str | None = cache.get(key)
        if version is None:
            cache.add(key, uuid.uuid4().hex, VERSION_TIMEOUT)
            version = cache.get(key)
    except Exception:  # the cache is an optimisation: without it, read the database
        logger.warning("mapping rules version unavailable", exc_info=True)
        return rules_load(site=site)
    local = _local_rules.get(site.pk)
    if local is not None and version is not None and local[0] == version:
        return local[1]
    rules = rules_load(site=site)
    if version is not None:
        if len(_local_rules) >= LOCAL_MAX_SITES:
            _local_rules.clear()
        _local_rules[site.pk] = (version, rules)
    return rules


def rules_forget(*, site_pk: int) -> None:
    """Give ``site``'s rules a new version, now and once the transaction commits.

    The second write is the one that matters: a reader that loaded the old
    rules before the commit tagged them with the old version, which is then
    no longer current.
    """

    def bump() -> None:
        try:
            cache.set(_version_key(site_pk), uuid.uuid4().hex, VERSION_TIMEOUT)
        except Exception:
            logger.warning("mapping rules version not bumped", exc_info=True)

    bump()
    transaction.on_commit(bump)


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
) -> MappedFields:
    """Map ``claims`` with ``site``'s rules for ``audience`` and ``protocol``.

    Raise MappingRefusedError naming the fields (never their values) when a
    rule is not satisfied.
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
        raise MappingRefusedError(
            fields=[p.target for p in result.problems],
            problems=[p.as_dict() for p in result.problems],
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
