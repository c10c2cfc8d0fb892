"""The pure routing engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.routing import Operator, Rule, route, rule_matches

VIP = Rule("membership_level", Operator.EQUALS, "VIP", "vip")
BIG = Rule("lifetime_value", Operator.GTE, "1000", "key-accounts")


@pytest.mark.parametrize(
    ("rule", "fields", "expected"),
    [
        (VIP, {"membership_level": "vip "}, True),
        (VIP, {"membership_level": "gold"}, False),
        (VIP, {}, False),
        (Rule("country", Operator.IN, "de, at,ch", "dach"), {"country": "AT"}, True),
        (Rule("country", Operator.IN, "de,at", "dach"), {"country": "fr"}, False),
        (Rule("tags", Operator.IN, "beta", "beta"), {"tags": ["x", "beta"]}, True),
        (Rule("email", Operator.EXISTS, "", "known"), {"email": "a@b.c"}, True),
        (Rule("email", Operator.EXISTS, "", "known"), {"email": ""}, False),
        (BIG, {"lifetime_value": 1000}, True),
        (BIG, {"lifetime_value": "999.99"}, False),
        (BIG, {"lifetime_value": "lots"}, False),
        (BIG, {"lifetime_value": True}, False),
        (Rule("age", Operator.LT, "18", "minors"), {"age": 17}, True),
        (Rule("age", Operator.LTE, "18", "minors"), {"age": 18.5}, False),
        (Rule("age", Operator.GT, "NaN", "x"), {"age": 5}, False),
        (Rule("verified", Operator.EQUALS, "true", "v"), {"verified": True}, True),
    ],
)
def test_rule_matches(rule: Rule, fields: dict[str, object], expected: bool) -> None:
    assert rule_matches(rule, fields) is expected


def test_first_matching_rule_wins_and_default_otherwise() -> None:
    rules = [VIP, BIG]
    assert route(rules, {"membership_level": "VIP", "lifetime_value": 5000}, default="g") == "vip"
    assert route(rules, {"lifetime_value": 5000}, default="g") == "key-accounts"
    assert route(rules, {"membership_level": "basic"}, default="general") == "general"
    assert route([], {"membership_level": "VIP"}, default="general") == "general"


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(-(10**9), 10**9))
def test_number_comparisons_agree_with_python(actual: int, threshold: int) -> None:
    fields = {"n": str(actual)}
    for operator, expected in [
        (Operator.GT, actual > threshold),
        (Operator.GTE, actual >= threshold),
        (Operator.LT, actual < threshold),
        (Operator.LTE, actual <= threshold),
    ]:
        assert rule_matches(Rule("n", operator, str(threshold), "g"), fields) is expected


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=5), st.text(max_size=5))
def test_route_always_returns_a_group_of_the_rules_or_the_default(
    fields: dict[str, str], value: str
) -> None:
    rules = [Rule(key, Operator.EQUALS, value, f"g-{key}") for key in fields]
    assert route(rules, fields, default="default") in {*(r.group for r in rules), "default"}
