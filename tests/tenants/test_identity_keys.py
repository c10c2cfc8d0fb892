"""The one identity key and the input boundary's parsers (pure functions).

SECURITY.md: "Identities compared on a normalised key (Unicode NFKC + case
fold, IDNA domain), never by a database collation's idea of
case-insensitive"; "Every input parsed at one boundary".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.identity_keys import IdentityError, email_key, email_validate
from tenants.inputs import InputError, ascii_int, json_read, text_clean

# Look-alikes of alice@a.example, written with escapes so the source shows them.
LOOKALIKES = {
    "dotless i": ("al\u0131ce@a.example", "not_allowed"),
    "long s": ("\u017fam@a.example", "not_allowed"),
    "Kelvin sign": ("\u212aim@a.example", "not_allowed"),
    "fullwidth local part": ("\uff41lice@a.example", "not_allowed"),
    "Cyrillic a": ("\u0430lice@a.example", "not_allowed"),
    "Greek omicron": ("b\u03bfb@a.example", "not_allowed"),
    "combining accent": ("ali\u0301ce@a.example", "not_allowed"),
    "fullwidth domain": ("alice@\uff41.example", "not_normalised"),
    "Cyrillic domain letter": ("alice@\u0430pple.example", "mixed_script"),
    "Cyrillic domain as punycode": ("alice@xn--pple-43d.example", "mixed_script"),
    "whole-script Cyrillic domain": ("alice@\u0430\u0440\u0440\u04cf\u0435.example", "confusable"),
    "decomposed domain": ("alice@bu\u0308cher.example", "not_normalised"),
    "Cyrillic e ending the domain": ("alice@a.exampl\u0435", "mixed_script"),
}


def test_case_differences_share_one_key() -> None:
    assert email_key("Alice@A.Example") == email_key("alice@a.example") == "alice@a.example"
    assert email_key("  BOB@Example.COM ") == "bob@example.com"


def test_an_internationalised_domain_has_one_key_in_both_spellings() -> None:
    assert email_key("ann@B\u00fccher.example") == email_key("ann@xn--bcher-kva.example")
    assert email_key("ann@b\u00fccher.example") == "ann@xn--bcher-kva.example"


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_lookalikes_are_refused_not_folded(name: str) -> None:
    value, code = LOOKALIKES[name]
    with pytest.raises(IdentityError) as refused:
        email_key(value)
    assert refused.value.code == code
    assert refused.value.lookalike


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("a" * 250 + "@a.example", "too_long"),
        ("nul\x00@a.example", "invalid"),
        ("\ud800@a.example", "invalid"),
        ("no-at-sign", "invalid"),
        ("", "invalid"),
        (None, "invalid"),
    ],
)
def test_what_is_no_email_is_refused_as_invalid(value: object, code: str) -> None:
    with pytest.raises(IdentityError) as refused:
        email_validate(value)
    assert refused.value.code == code
    assert not refused.value.lookalike


@pytest.mark.parametrize(
    "value", ["\u0661\u0662", "\u00b2", "\U0001d7cf", "\uff11", "1_000", "0x10", "1e3", " ", ""]
)
def test_integers_are_ascii_digits_only(value: str) -> None:
    with pytest.raises(InputError) as refused:
        ascii_int(value)
    assert refused.value.code == "bad_integer"


def test_integers_in_range() -> None:
    assert ascii_int(" 10001 ", minimum=1000, maximum=99_999_999) == 10001
    with pytest.raises(InputError) as refused:
        ascii_int("99999", maximum=9999)
    assert refused.value.code == "integer_out_of_range"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"[" * 5000 + b"]" * 5000, "json_too_deep"),
        (b'{"a": "\\u0000"}', "bad_text"),
        (b'{"a": "\\ud800"}', "bad_text"),
        (b'{"\\udfff": 1}', "bad_text"),
        (b"\xed\xa0\x80", "bad_encoding"),
        (b'{"a": NaN}', "bad_json"),
        (b'{"a": "\x00"}', "bad_json"),
        (b"{" + b" " * 70_000 + b"}", "body_too_large"),
    ],
)
def test_the_json_reader_refuses_with_a_code(raw: bytes, code: str) -> None:
    with pytest.raises(InputError) as refused:
        json_read(raw)
    assert refused.value.code == code


def test_the_json_reader_reads_json() -> None:
    assert json_read(b'{"text": "h\\u00e9llo", "n": [1, 2]}') == {"text": "héllo", "n": [1, 2]}


def test_text_cleaning_removes_nul_controls_and_surrogates_only() -> None:
    assert text_clean("a\x00b\x07c\ud800d\te\nf") == "abcd\te\nf"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    position=st.integers(min_value=0, max_value=len("alice@a.example") - 1),
    char=st.characters(codec=None, exclude_categories=()),
    insert=st.booleans(),
)
def test_only_ascii_case_variants_share_a_key(position: int, char: str, insert: bool) -> None:
    """Property: whatever one character is changed or inserted, the result
    either has no key or has alice's key only if it is alice's address in
    another ASCII case (no look-alike ever maps onto hers)."""
    original = "alice@a.example"
    end = position if insert else position + 1
    candidate = original[:position] + char + original[end:]
    try:
        key = email_key(candidate)
    except IdentityError:
        return
    if key == email_key(original):
        assert candidate.isascii()
        assert candidate.lower() == original
