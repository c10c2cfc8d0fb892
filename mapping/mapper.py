"""The mapping engine: a pure function from rules and raw identity data to
field values, or to a list of problems.

No Django models, no database, no I/O: ``map_fields(rules, data, source_kind)``
depends on its arguments only, so the admin's "try it" form, the sign-in
path and the tests all run the very same code. A problem names the source and
the target and what went wrong, never the value (values may be personal data
and end up in the audit log).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mapping.lookups import MISSING, lookup
from tenants.identity_keys import IdentityError, email_validate


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    EMAIL = "email"
    CHOICE = "choice"


class MultiValue(StrEnum):
    FIRST = "first"
    ALL = "all"


class SourceKind(StrEnum):
    """How a source names its value: a dotted claim path or a SAML attribute."""

    CLAIMS = "claims"
    SAML = "saml"


class ProblemCode(StrEnum):
    MISSING = "missing"
    WRONG_TYPE = "wrong_type"
    NOT_A_CHOICE = "not_a_choice"
    TOO_LONG = "too_long"
    BAD_DEFAULT = "bad_default"


PROBLEM_TEXT: dict[ProblemCode, str] = {
    ProblemCode.MISSING: "is required but missing",
    ProblemCode.WRONG_TYPE: "is not a valid {type}",
    ProblemCode.NOT_A_CHOICE: "is not one of the allowed choices",
    ProblemCode.TOO_LONG: "is longer than {max_length} characters",
    ProblemCode.BAD_DEFAULT: "has a default that is not a valid {type}",
}

TEXT_MAX_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Rule:
    """One mapping: where a value comes from, where it goes, and its type."""

    source: str
    target: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    default: str = ""
    choices: tuple[str, ...] = ()
    multi: MultiValue = MultiValue.FIRST
    trim: bool = True
    lower: bool = False
    max_length: int = TEXT_MAX_LENGTH


@dataclass(frozen=True, slots=True)
class Problem:
    source: str
    target: str
    code: ProblemCode
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the problem for the audit log: names and a code, no value."""
        return {"source": self.source, "target": self.target, "code": self.code.value}


@dataclass(frozen=True, slots=True)
class MappingResult:
    values: dict[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class CoercionError(ValueError):
    """A value does not fit a type; carries the problem code only."""

    def __init__(self, code: ProblemCode) -> None:
        super().__init__(code.value)
        self.code = code


_MISSING = MISSING
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def map_fields(
    rules: Sequence[Rule], data: Mapping[str, Any], *, source_kind: SourceKind
) -> MappingResult:
    """Apply ``rules`` to ``data`` (JWT claims or SAML attributes)."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for rule in rules:
        raw = lookup(data, rule.source, saml=source_kind is SourceKind.SAML)
        try:
            value = _value_for(rule, raw)
        except CoercionError as error:
            problems.append(problem_for(rule, error.code))
            continue
        if value is not _MISSING:
            values[rule.target] = value
    return MappingResult(values=values, problems=tuple(problems))


def problem_for(rule: Rule, code: ProblemCode) -> Problem:
    text = PROBLEM_TEXT[code].format(type=rule.type.value, max_length=rule.max_length)
    return Problem(rule.source, rule.target, code, f"{rule.source} -> {rule.target}: {text}")


def _value_for(rule: Rule, raw: Any) -> Any:
    items = [v for v in (raw if isinstance(raw, list | tuple) else [raw]) if not _empty(v, rule)]
    if not items:
        if rule.default:
            try:
                return _shape(rule, [coerce(rule, rule.default)])
            except CoercionError:
                raise CoercionError(ProblemCode.BAD_DEFAULT) from None
        if rule.required:
            raise CoercionError(ProblemCode.MISSING)
        return _MISSING
    if rule.multi is MultiValue.FIRST:
        items = items[:1]
    return _shape(rule, [coerce(rule, item) for item in items])


def _shape(rule: Rule, values: list[Any]) -> Any:
    return values if rule.multi is MultiValue.ALL else values[0]


def _empty(value: Any, rule: Rule) -> bool:
    if value is None or value is _MISSING:
        return True
    return isinstance(value, str) and not (value.strip() if rule.trim else value)


def coerce(rule: Rule, value: Any) -> Any:
    """Return ``value`` as ``rule.type`` (JSON-serialisable) or raise CoercionError."""
    if isinstance(value, str):
        if rule.trim:
            value = value.strip()
        if rule.lower:
            value = value.lower()
    coerced = _COERCERS[rule.type](rule, value)
    if isinstance(coerced, str) and len(coerced) > rule.max_length:
        raise CoercionError(ProblemCode.TOO_LONG)
    return coerced


def _text(rule: Rule, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    raise CoercionError(ProblemCode.WRONG_TYPE)


def _number(rule: Rule, value: Any) -> int | float:
    if isinstance(value, bool):
        raise CoercionError(ProblemCode.WRONG_TYPE)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    raise CoercionError(ProblemCode.WRONG_TYPE)


def _boolean(rule: Rule, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise CoercionError(ProblemCode.WRONG_TYPE)


def _date(rule: Rule, value: Any) -> str:
    """Return an ISO date; accept ISO dates and datetimes and epoch seconds (UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            raise CoercionError(ProblemCode.WRONG_TYPE) from None
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value).isoformat()
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CoercionError(ProblemCode.WRONG_TYPE) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC)
        return parsed.date().isoformat()
    raise CoercionError(ProblemCode.WRONG_TYPE)


def _email(rule: Rule, value: Any) -> str:
    """The one email rule of every protocol (``tenants.identity_keys``)."""
    try:
        if isinstance(value, str) and value == value.strip():
            return email_validate(value)
    except IdentityError:
        pass
    raise CoercionError(ProblemCode.WRONG_TYPE)


def _choice(rule: Rule, value: Any) -> str:
    text = _text(rule, value)
    if text in rule.choices:
        return text
    if rule.lower:
        for choice in rule.choices:
            if choice.lower() == text:
                return choice
    raise CoercionError(ProblemCode.NOT_A_CHOICE)


_COERCERS = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.EMAIL: _email,
    FieldType.CHOICE: _choice,
}
