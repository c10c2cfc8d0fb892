"""Routing rules: ordered conditions on a visitor's mapped fields that choose
the agents' group. Pure: no database access, so the admin, the chat service
and the tests all call the very same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class Operator(StrEnum):
    EQUALS = "equals"
    IN = "in"
    EXISTS = "exists"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


@dataclass(frozen=True, slots=True)
class Rule:
    """``field`` ``operator`` ``value`` -> ``group``; ``in`` takes a comma list."""

    field: str
    operator: Operator
    value: str
    group: str


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def rule_matches(rule: Rule, fields: Mapping[str, Any]) -> bool:
    """Return whether ``rule`` holds for ``fields`` (missing fields never match)."""
    present = rule.field in fields and fields[rule.field] not in (None, "", [])
    if rule.operator == Operator.EXISTS:
        return present
    if not present:
        return False
    actual = fields[rule.field]
    values = actual if isinstance(actual, list) else [actual]
    return any(_value_matches(rule, value) for value in values)


def _value_matches(rule: Rule, actual: Any) -> bool:
    if rule.operator == Operator.EQUALS:
        return _text(actual) == _text(rule.value)
    if rule.operator == Operator.IN:
        return _text(actual) in {_text(item) for item in rule.value.split(",")}
    left, right = _number(actual), _number(rule.value)
    if left is None or right is None:
        return False
    return {
        Operator.GT: left > right,
        Operator.GTE: left >= right,
        Operator.LT: left < right,
        Operator.LTE: left <= right,
    }[rule.operator]


def route(rules: Iterable[Rule], fields: Mapping[str, Any], *, default: str) -> str:
    """Return the group of the first rule that matches ``fields``, else ``default``."""
    for rule in rules:
        if rule_matches(rule, fields):
            return rule.group
    return default
