"""Apply a site's field mappings at sign-in; default mappings for new sites.

A site's rules are loaded in one query and kept in each process as a part
of the site's record (``tenants.site_record``), current while the site's
version is. Saving or deleting a mapping or a variable gives the site a new
version, so every app server reloads at its next sign-in of that site. A
sign-in then costs no query for its rules, and shares the version read with
the rest of the site's record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mapping.mapper import MappingResult, Rule, SourceKind, map_fields
from mapping.models import BUILTIN_TYPES, CUSTOM_PREFIX, FieldMapping, Target
from tenants.models import Audience, Protocol, Site
from tenants.site_record import site_part, site_version_bump

logger = logging.getLogger(__name__)

SOURCE_KINDS = {Protocol.JWT: SourceKind.CLAIMS, Protocol.SAML: SourceKind.SAML}

RuleSets = dict[tuple[str, str], tuple[Rule, ...]]


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


def rules_load(*, site: Site) -> RuleSets:
    """Return ``site``'s rules by (audience, protocol), from the database."""
    rule_sets: dict[tuple[str, str], list[Rule]] = {}
    mappings = FieldMapping.objects.for_site(site).select_related("variable").order_by("pk")
    for mapping in mappings:
        rule_sets.setdefault((mapping.audience, mapping.protocol), []).append(mapping.rule())
    return {key: tuple(rules) for key, rules in rule_sets.items()}


def rules_for_site(*, site: Site) -> RuleSets:
    """Return ``site``'s rules: this process's copy while the site's version is current."""
    return site_part(site.pk, "mapping:rules", lambda: rules_load(site=site))


def rules_forget(*, site_pk: int) -> None:
    """Give ``site``'s record a new version, now and once the transaction commits."""
    site_version_bump(site_pk)


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
    FieldMapping.objects.bulk_create(created)  # gives the site a new version
    return created
