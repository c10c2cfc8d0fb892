"""Property-based tests of the engine's coercion and validation, per type."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from mapping.mapper import (
    CoercionError,
    FieldType,
    MultiValue,
    ProblemCode,
    Rule,
    SourceKind,
    coerce,
    map_fields,
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def rule(kind: FieldType, **kwargs: Any) -> Rule:
    return Rule(source="src", target="tgt", type=kind, **kwargs)


def code_of(kind: FieldType, value: Any, **kwargs: Any) -> ProblemCode | None:
    try:
        coerce(rule(kind, **kwargs), value)
    except CoercionError as error:
        return error.code
    return None


# Text.


@given(st.text(max_size=200))
def test_text_keeps_any_string_trimmed(value: str) -> None:
    assert coerce(rule(FieldType.TEXT), value) == value.strip()
    assert coerce(rule(FieldType.TEXT, trim=False), value) == value
    assert coerce(rule(FieldType.TEXT, lower=True), value) == value.strip().lower()


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_text_accepts_numbers_as_their_decimal_form(value: float) -> None:
    assert coerce(rule(FieldType.TEXT), value) == str(value)


@given(st.text(min_size=1, max_size=50).filter(lambda s: s.strip()), st.integers(1, 40))
def test_text_longer_than_the_target_is_refused(value: str, limit: int) -> None:
    expected = ProblemCode.TOO_LONG if len(value.strip()) > limit else None
    assert code_of(FieldType.TEXT, value, max_length=limit) == expected


@given(st.dictionaries(st.text(max_size=5), json_scalars, max_size=3))
def test_text_refuses_objects(value: dict[str, Any]) -> None:
    assert code_of(FieldType.TEXT, value) is ProblemCode.WRONG_TYPE


# Number.


@given(st.integers())
def test_number_accepts_integers_and_their_strings(value: int) -> None:
    assert coerce(rule(FieldType.NUMBER), value) == value
    assert coerce(rule(FieldType.NUMBER), f"  {value} ") == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_accepts_finite_floats_and_their_strings(value: float) -> None:
    assert coerce(rule(FieldType.NUMBER), value) == value
    assert coerce(rule(FieldType.NUMBER), repr(value)) == value


@given(st.sampled_from([math.nan, math.inf, -math.inf, "nan", "inf", "1e999", True, False]))
def test_number_refuses_non_finite_values_and_booleans(value: Any) -> None:
    assert code_of(FieldType.NUMBER, value) is ProblemCode.WRONG_TYPE


PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


@given(st.text(max_size=20))
def test_number_refuses_text_that_is_not_a_plain_number(value: str) -> None:
    assume(not PLAIN_NUMBER.fullmatch(value.strip()))
    assert code_of(FieldType.NUMBER, value) is ProblemCode.WRONG_TYPE


@given(st.sampled_from(["١٢", "0x10", "1_000", "½", "1,5", "--1", "1e"]))
def test_number_refuses_lookalikes(value: str) -> None:
    assert code_of(FieldType.NUMBER, value) is ProblemCode.WRONG_TYPE


# Boolean.

TRUE_WORDS = ["true", "yes", "y", "on", "1"]
FALSE_WORDS = ["false", "no", "n", "off", "0"]


@given(st.booleans())
def test_boolean_keeps_booleans(value: bool) -> None:
    assert coerce(rule(FieldType.BOOLEAN), value) is value


@given(st.sampled_from(TRUE_WORDS + FALSE_WORDS), st.booleans(), st.text(" ", max_size=2))
def test_boolean_reads_words_in_any_case(word: str, upper: bool, pad: str) -> None:
    text = pad + (word.upper() if upper else word) + pad
    assert coerce(rule(FieldType.BOOLEAN), text) is (word in TRUE_WORDS)


@given(st.text(max_size=10) | st.integers() | st.floats())
def test_boolean_refuses_anything_else(value: Any) -> None:
    if isinstance(value, str):
        assume(value.strip().lower() not in TRUE_WORDS + FALSE_WORDS)
    else:
        assume(value not in (0, 1))
    assert code_of(FieldType.BOOLEAN, value) is ProblemCode.WRONG_TYPE


# Date.


@given(st.dates())
def test_date_reads_iso_dates(value: dt.date) -> None:
    assert coerce(rule(FieldType.DATE), value.isoformat()) == value.isoformat()


@given(st.datetimes(timezones=st.timezones()))
def test_date_reads_iso_datetimes_as_their_utc_date(value: dt.datetime) -> None:
    try:
        expected = value.astimezone(dt.UTC).date().isoformat()
    except OverflowError:
        assume(False)
    assert coerce(rule(FieldType.DATE), value.isoformat()) == expected


@given(st.integers(0, 253402300799))
def test_date_reads_epoch_seconds_in_utc(value: int) -> None:
    expected = dt.datetime.fromtimestamp(value, tz=dt.UTC).date().isoformat()
    assert coerce(rule(FieldType.DATE), value) == expected


@given(st.text(max_size=20))
def test_date_refuses_text_that_is_not_a_date(value: str) -> None:
    try:
        dt.datetime.fromisoformat(value.strip())
    except ValueError:
        assert code_of(FieldType.DATE, value) is ProblemCode.WRONG_TYPE
    else:
        assume(False)


# Email.


@given(st.emails())
def test_email_accepts_addresses(value: str) -> None:
    local = value.rsplit("@", 1)[0]
    assume(len(value) <= 254 and len(local) <= 64)
    assert coerce(rule(FieldType.EMAIL), value) == value


@given(st.text(max_size=40).filter(lambda s: "@" not in s))
def test_email_refuses_text_without_an_at_sign(value: str) -> None:
    assert code_of(FieldType.EMAIL, value) is ProblemCode.WRONG_TYPE


@given(st.integers() | st.booleans() | st.lists(st.text(max_size=3), max_size=2))
def test_email_refuses_non_text(value: Any) -> None:
    assert code_of(FieldType.EMAIL, value) is ProblemCode.WRONG_TYPE


# Choice.

choice_lists = st.lists(st.text(min_size=1, max_size=10).map(str.strip).filter(bool), min_size=1)


@given(choice_lists, st.data())
def test_choice_accepts_exactly_its_choices(choices: list[str], data: st.DataObject) -> None:
    value = data.draw(st.sampled_from(choices))
    assert coerce(rule(FieldType.CHOICE, choices=tuple(choices)), value) == value


@given(choice_lists, st.text(max_size=10))
def test_choice_refuses_anything_else(choices: list[str], value: str) -> None:
    assume(value.strip() not in choices)
    assert code_of(FieldType.CHOICE, value, choices=tuple(choices)) is ProblemCode.NOT_A_CHOICE


# The whole engine.

rules_strategy = st.builds(
    Rule,
    source=st.sampled_from(["a", "b.c", "d"]),
    target=st.sampled_from(["name", "custom.x", "custom.y"]),
    type=st.sampled_from(list(FieldType)),
    required=st.booleans(),
    default=st.sampled_from(["", "1", "true", "2024-01-02", "a@b.example", "x"]),
    choices=st.just(("x", "1")),
    multi=st.sampled_from(list(MultiValue)),
    lower=st.booleans(),
)


@given(
    st.lists(rules_strategy, max_size=6, unique_by=lambda r: r.target),
    st.dictionaries(st.sampled_from(["a", "b", "d"]), json_values, max_size=3),
    st.sampled_from(list(SourceKind)),
)
def test_the_engine_never_raises_and_returns_json_values_or_problems(
    rules: list[Rule], data: dict[str, Any], kind: SourceKind
) -> None:
    result = map_fields(rules, data, source_kind=kind)
    json.dumps(result.values, allow_nan=False)
    failed = {p.target for p in result.problems}
    for rule_ in rules:
        if rule_.target in result.values and rule_.target not in failed:
            value = result.values[rule_.target]
            assert isinstance(value, list) == (rule_.multi is MultiValue.ALL)
    for problem in result.problems:
        assert problem.message.startswith(f"{problem.source} -> {problem.target}: ")


@given(st.sampled_from(list(FieldType)), st.sampled_from(["\n", "\r\n", " ", "\t"]))
def test_untrimmed_whitespace_is_not_ignored(kind: FieldType, pad: str) -> None:
    samples = {
        FieldType.NUMBER: "5",
        FieldType.EMAIL: "a@b.example",
        FieldType.BOOLEAN: "yes",
        FieldType.DATE: "2024-01-02",
        FieldType.CHOICE: "x",
        FieldType.TEXT: "x",
    }
    value = samples[kind] + pad
    code = code_of(kind, value, trim=False, choices=("x",))
    if kind is FieldType.TEXT:
        assert code is None
    else:
        assert code in {ProblemCode.WRONG_TYPE, ProblemCode.NOT_A_CHOICE}
