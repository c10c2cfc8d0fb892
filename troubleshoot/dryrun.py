"""Dry runs: the very sign-in verification code on a pasted SAML response or
JWT, with ``dry_run=True`` (no session, no replay entry consumed, no audit
row, no request consumed), traced check by check.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from campaigns.models import Campaign
from campaigns.routing import rule_matches
from chats.selectors import routing_rules
from mapping.mapper import MappingResult
from mapping.services import mapping_run, rules_load
from sso.checktrace import CheckTrace
from sso.jwt.flows import jwt_identity
from sso.saml.acs import saml_response_verify
from sso.saml.config import saml_settings_get
from sso.saml.identity import identity_from_session_info
from sso_site.signin.identity import VerifiedIdentity
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Audience, Protocol, Site
from troubleshoot.values import jwt_values, saml_values

INPUT_MAX = 512 * 1024


@dataclass
class Step:
    name: str
    ok: bool
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Routing:
    campaign: str
    group: str
    rule: str


@dataclass
class Report:
    """What a dry run found: the checks in order, then mapping and routing."""

    protocol: Protocol
    audience: Audience
    steps: list[Step] = field(default_factory=list)
    reason: RefusalReason | None = None
    failed_check: str = ""
    values: dict[str, str] = field(default_factory=dict)
    mapping: MappingResult | None = None
    mapping_rows: list[tuple[str, str, bool]] = field(default_factory=list)
    routing: list[Routing] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reason is None


def saml_text_encode(text: str) -> str:
    """Return the base64 SAMLResponse for pasted base64 or raw XML."""
    text = text.strip()
    if text.startswith("<"):
        return base64.b64encode(text.encode()).decode()
    return "".join(text.split())


def saml_dry_run(request: HttpRequest, *, site: Site, audience: Audience, text: str) -> Report:
    """Run the ACS checks of ``site``'s ``audience`` SP on ``text``, writing nothing."""
    report = Report(protocol=Protocol.SAML, audience=audience)
    encoded = saml_text_encode(text)[:INPUT_MAX]
    report.values = saml_values(encoded)
    settings = saml_settings_get(site=site, audience=audience)
    if settings is None:
        report.reason = RefusalReason.NOT_CONFIGURED
        return report
    settings.site = site

    def verify() -> VerifiedIdentity:
        verified = saml_response_verify(request, settings=settings, encoded=encoded, dry_run=True)
        return identity_from_session_info(
            site=site,
            settings=settings,
            session_info=verified.session_info,
            assertion_info=verified.assertion_info,
            dry_run=True,
        )

    return _run(report, site=site, verify=verify)


def jwt_dry_run(*, site: Site, audience: Audience, token: str) -> Report:
    """Run the JWT callback's checks for ``site``'s ``audience`` on ``token``."""
    report = Report(protocol=Protocol.JWT, audience=audience)
    token = "".join(token.split())[:INPUT_MAX]
    report.values = jwt_values(token)
    return _run(
        report,
        site=site,
        verify=lambda: jwt_identity(site=site, audience=audience, token=token, dry_run=True),
    )


def _run(report: Report, *, site: Site, verify: Any) -> Report:
    started = time.perf_counter()
    identity: VerifiedIdentity | None = None
    with CheckTrace() as trace:
        try:
            identity = verify()
        except SignInRefused as refusal:
            report.reason = refusal.reason
            report.failed_check = str(refusal.detail.get("check") or refusal.reason.value)
            report.values.update(
                {f"refusal {k}": str(v)[:120] for k, v in refusal.detail.items() if k != "check"}
            )
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    report.steps = steps_merge(trace.passed)
    if report.reason is not None:
        report.steps.append(Step(report.failed_check, ok=False))
    if identity is not None:
        _mapping(report, site=site, claims=dict(identity.claims))
    return report


def steps_merge(passed: list[tuple[str, dict[str, str]]]) -> list[Step]:
    """Merge consecutive notes of one check (several rules share a name)."""
    steps: list[Step] = []
    for name, values in passed:
        if steps and steps[-1].name == name:
            steps[-1].values.update(values)
        else:
            steps.append(Step(name, ok=True, values=dict(values)))
    return steps


def _mapping(report: Report, *, site: Site, claims: dict[str, Any]) -> None:
    rules = rules_load(site=site).get((report.audience, report.protocol), ())
    report.mapping = mapping_run(rules, protocol=report.protocol, claims=claims)
    report.mapping_rows = [
        (rule.target, repr(report.mapping.values[rule.target]), rule.required)
        for rule in rules
        if rule.target in report.mapping.values
    ]
    if report.audience != Audience.VISITOR:
        return
    fields = dict(report.mapping.values)
    for campaign in Campaign.objects.for_site(site).order_by("pk"):
        fired = next(
            (r for r in routing_rules(site=site, campaign=campaign) if rule_matches(r, fields)),
            None,
        )
        report.routing.append(
            Routing(
                campaign=campaign.name,
                group=fired.group if fired else campaign.default_group,
                rule=f"{fired.field} {fired.operator} {fired.value}" if fired else "(default)",
            )
        )


def binary_text(data: bytes) -> str:
    """Return an uploaded file's text (UTF-8, else base64 of its bytes)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode()
