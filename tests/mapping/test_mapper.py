"""The pure engine: lookups, multi-valued attributes, defaults, required
fields, normalisation and the wording of problems.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from mapping.mapper import (
    FieldType,
    MultiValue,
    ProblemCode,
    Rule,
    SourceKind,
    map_fields,
)

CLAIMS = SourceKind.CLAIMS
SAML = SourceKind.SAML


def one(rule: Rule, data: dict[str, Any], kind: SourceKind = CLAIMS) -> Any:
    result = map_fields([rule], data, source_kind=kind)
    assert result.ok, result.problems
    return result.values.get(rule.target, "<absent>")


@pytest.mark.parametrize(
    ("path", "claims", "expected"),
    [
        ("tier", {"tier": "gold"}, "gold"),
        ("account.tier", {"account": {"tier": "gold"}}, "gold"),
        ("a.b.c", {"a": {"b": {"c": "deep"}}}, "deep"),
        # A key that itself holds dots (namespaced claims) wins over nesting.
        ("https://x.example/tier", {"https://x.example/tier": "ns"}, "ns"),
        ("https://x.example/claims.tier", {"https://x.example/claims": {"tier": "n"}}, "n"),
        ("account.tier", {"account.tier": "flat", "account": {"tier": "nested"}}, "flat"),
        ("groups.1", {"groups": ["a", "b"]}, "b"),
        ("orgs.0.name", {"orgs": [{"name": "Acme"}]}, "Acme"),
        ("account.tier", {"account": "not an object"}, "<absent>"),
        ("account.tier", {"account": {}}, "<absent>"),
        ("groups.5", {"groups": ["a"]}, "<absent>"),
        ("missing", {}, "<absent>"),
    ],
)
def test_dotted_paths(path: str, claims: dict[str, Any], expected: Any) -> None:
    assert one(Rule(source=path, target="t"), claims) == expected


def test_multi_valued_attributes_keep_first_or_all() -> None:
    ava = {"groups": ["sales", "vip", "emea"]}
    assert one(Rule(source="groups", target="g"), ava, SAML) == "sales"
    assert one(Rule(source="groups", target="g", multi=MultiValue.ALL), ava, SAML) == [
        "sales",
        "vip",
        "emea",
    ]
    # A scalar claim under "all" becomes a one-item list; empty items are skipped.
    assert one(Rule(source="g", target="g", multi=MultiValue.ALL), {"g": "x"}) == ["x"]
    assert one(Rule(source="g", target="g"), {"g": ["", "  ", "y"]}) == "y"


def test_every_value_of_a_multi_valued_attribute_is_checked() -> None:
    rule = Rule(source="n", target="n", type=FieldType.NUMBER, multi=MultiValue.ALL)
    result = map_fields([rule], {"n": ["1", "two"]}, source_kind=SAML)
    assert [p.code for p in result.problems] == [ProblemCode.WRONG_TYPE]
    assert one(rule, {"n": ["1", "2.5"]}, SAML) == [1, 2.5]


@pytest.mark.parametrize(
    ("source", "ava"),
    [
        ("mail", {"mail": ["a@x.example"]}),
        # pysaml2 keys ``ava`` by friendly name; an OID source still finds it.
        ("urn:oid:0.9.2342.19200300.100.1.3", {"mail": ["a@x.example"]}),
        # An unknown attribute stays under its full name; the friendly name finds it.
        ("mail", {"urn:oid:0.9.2342.19200300.100.1.3": ["a@x.example"]}),
        ("Mail", {"mail": ["a@x.example"]}),
    ],
)
def test_saml_attributes_by_name_or_friendly_name(source: str, ava: dict[str, Any]) -> None:
    assert one(Rule(source=source, target="email", type=FieldType.EMAIL), ava, SAML) == (
        "a@x.example"
    )


def test_saml_names_are_not_dotted_paths() -> None:
    ava = {"urn:oid:2.5.4.42": ["Ann"]}
    assert one(Rule(source="urn:oid:2.5.4.42", target="n"), ava, SAML) == "Ann"
    assert one(Rule(source="a.b", target="n"), {"a": {"b": "x"}}, SAML) == "<absent>"


def test_defaults_fill_missing_values_and_are_typed() -> None:
    assert one(Rule(source="tier", target="t", default="basic"), {}) == "basic"
    assert one(Rule(source="n", target="n", type=FieldType.NUMBER, default="3"), {}) == 3
    assert one(Rule(source="b", target="b", type=FieldType.BOOLEAN, default="yes"), {}) is True
    assert one(Rule(source="tier", target="t", default="basic"), {"tier": "  "}) == "basic"
    assert one(Rule(source="tier", target="t", default="basic"), {"tier": "gold"}) == "gold"
    rule = Rule(source="n", target="n", type=FieldType.NUMBER, default="many")
    result = map_fields([rule], {}, source_kind=CLAIMS)
    assert [p.code for p in result.problems] == [ProblemCode.BAD_DEFAULT]


MISSING_TIERS = [{}, {"tier": None}, {"tier": ""}, {"tier": "   "}, {"tier": []}]


@pytest.mark.parametrize("claims", MISSING_TIERS)
def test_required_fields_missing_are_problems(claims: dict[str, Any]) -> None:
    rule = Rule(source="account.tier", target="custom.tier", required=True)
    result = map_fields([rule], {"account": claims}, source_kind=CLAIMS)
    assert result.values == {}
    (problem,) = result.problems
    assert (problem.source, problem.target, problem.code) == (
        "account.tier",
        "custom.tier",
        ProblemCode.MISSING,
    )
    assert problem.message == "account.tier -> custom.tier: is required but missing"


def test_a_required_field_with_a_default_is_satisfied() -> None:
    rule = Rule(source="tier", target="t", required=True, default="basic")
    assert one(rule, {}) == "basic"


def test_optional_missing_fields_are_left_out() -> None:
    result = map_fields([Rule(source="x", target="x")], {}, source_kind=CLAIMS)
    assert result.ok
    assert result.values == {}


def test_normalisation_trims_and_lower_cases() -> None:
    assert one(Rule(source="e", target="e"), {"e": "  Ann  "}) == "Ann"
    assert one(Rule(source="e", target="e", trim=False), {"e": "  Ann  "}) == "  Ann  "
    assert one(Rule(source="e", target="e", lower=True), {"e": " ANN@X.Example "}) == (
        "ann@x.example"
    )
    choice = Rule(source="c", target="c", type=FieldType.CHOICE, choices=("VIP", "Basic"))
    assert one(Rule(**{**_fields(choice), "lower": True}), {"c": "vip"}) == "VIP"
    problems = map_fields([choice], {"c": "vip"}, source_kind=CLAIMS).problems
    assert [p.code for p in problems] == [ProblemCode.NOT_A_CHOICE]


def test_problems_name_source_and_target_but_never_the_value() -> None:
    secret = "s3cret-value-4242"
    rules = [
        Rule(source="n", target="custom.n", type=FieldType.NUMBER),
        Rule(source="e", target="email", type=FieldType.EMAIL),
        Rule(source="c", target="custom.c", type=FieldType.CHOICE, choices=("a",)),
        Rule(source="t", target="name", max_length=5),
    ]
    data = {"n": secret, "e": secret, "c": secret, "t": secret}
    result = map_fields(rules, data, source_kind=CLAIMS)
    assert [(p.target, p.code) for p in result.problems] == [
        ("custom.n", ProblemCode.WRONG_TYPE),
        ("email", ProblemCode.WRONG_TYPE),
        ("custom.c", ProblemCode.NOT_A_CHOICE),
        ("name", ProblemCode.TOO_LONG),
    ]
    for problem in result.problems:
        assert secret not in problem.message
        assert secret not in str(problem.as_dict())
        assert problem.source in problem.message
        assert problem.target in problem.message


def test_all_rules_run_and_every_problem_is_reported() -> None:
    rules = [
        Rule(source="a", target="a", required=True),
        Rule(source="b", target="b"),
        Rule(source="c", target="c", required=True),
    ]
    result = map_fields(rules, {"b": "ok"}, source_kind=CLAIMS)
    assert result.values == {"b": "ok"}
    assert [p.target for p in result.problems] == ["a", "c"]


def _fields(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in Rule.__slots__}


def test_a_path_through_adversarial_claims_is_bounded() -> None:
    # Every prefix of "a.a.a...." is a key at every level: 2**39 ways to split.
    depth = 40
    path = ".".join(["a"] * depth) + ".missing"

    def level(n: int) -> dict[str, Any]:
        if n == 0:
            return {}
        child = level(n - 1)
        return {".".join(["a"] * k): child for k in range(1, 6)}

    claims = level(depth)
    assert one(Rule(source=path, target="t"), claims) == "<absent>"
    assert one(Rule(source="a.a.a", target="t"), {"a": {"a": {"a": "ok"}}}) == "ok"


def test_the_engine_imports_nothing_of_django() -> None:
    # The one identity validator is shared by the engine; it is pure too.
    pure = {"tenants", "tenants.identity_keys"}
    code = (
        "import sys, mapping.mapper; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'tenants'} "
        f"and m not in {pure!r}); "
        "assert not bad, bad"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
