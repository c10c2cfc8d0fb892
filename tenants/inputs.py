"""The input boundary: ASCII-only integers, one strict JSON reader, and the
text checks every value bound for PostgreSQL passes.

Pure functions, no models: every layer may use them. Each problem carries a
short code (never the value) that views answer with a 400.

Policy per kind of text (PRODUCT.md, "Input boundary"):

- identities (email, subject, external ID): refused when not printable;
- JSON bodies: refused (400) when they hold a NUL or a lone surrogate anywhere;
- free text stored for people (chat messages, survey answers, token claims
  kept as fields): cleaned, NUL, other control characters but tab and
  newline, and lone surrogates removed.
"""

from __future__ import annotations

import json
import re
from typing import Any

JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 32

_ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
# C0 controls but tab, newline and carriage return; DEL; lone surrogates.
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_NUL_OR_SURROGATE = re.compile(r"[\x00\ud800-\udfff]")


class InputError(ValueError):
    """Malformed input; ``code`` is what the answer (and the audit) shows."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def ascii_int(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` (text of ASCII digits, optional sign) as an int, else raise.

    ``str.isdigit()`` and ``int()`` accept other scripts' digits and
    superscripts; a request's number never may.
    """
    if not isinstance(value, str) or not _ASCII_INT.fullmatch(value.strip()):
        raise InputError("bad_integer")
    number = int(value.strip())
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InputError("integer_out_of_range")
    return number


def ascii_int_or(
    value: object, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``ascii_int(value)``, or ``default`` when it is not one."""
    try:
        return ascii_int(value, minimum=minimum, maximum=maximum)
    except InputError:
        return default


def text_is_safe(value: str) -> bool:
    """Return whether ``value`` holds no NUL and no lone surrogate."""
    return _NUL_OR_SURROGATE.search(value) is None


def text_clean(value: str) -> str:
    """Return ``value`` without NUL, control characters (but tab and newline) or surrogates."""
    return _UNSAFE_TEXT.sub("", value)


def text_clean_deep(value: Any) -> Any:
    """Return ``value`` with ``text_clean`` applied to every string (keys too) in it."""
    if isinstance(value, str):
        return text_clean(value)
    if isinstance(value, list | tuple):
        return [text_clean_deep(item) for item in value]
    if isinstance(value, dict):
        return {text_clean_deep(key): text_clean_deep(item) for key, item in value.items()}
    return value


def printable(value: str, limit: int) -> str:
    """Return at most ``limit`` characters of ``value``, unprintables as ``?`` (for logs)."""
    return "".join(c if c.isprintable() else "?" for c in value[:limit])


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Return whether ``text``'s arrays and objects nest deeper than ``limit``.

    A linear scan run before ``json.loads``, whose recursion a deep document
    would otherwise exhaust.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _no_constant(name: str) -> Any:
    raise InputError("bad_json")  # NaN, Infinity: not JSON


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        if not text_is_safe(value):
            raise InputError("bad_text")
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)


def json_read(
    raw: bytes | str, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH
) -> Any:
    """Return the JSON document ``raw``, or raise InputError.

    Size cap, UTF-8 strict (no overlong forms, no encoded surrogates), depth
    cap, no NaN/Infinity, and no NUL or lone surrogate (``\\u0000``,
    ``\\ud800``) in any string or key.
    """
    if isinstance(raw, str):
        if len(raw) > max_bytes:
            raise InputError("body_too_large")
        text = raw
    else:
        if len(raw) > max_bytes:
            raise InputError("body_too_large")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("bad_encoding") from None
    if json_depth_exceeds(text, max_depth):
        raise InputError("json_too_deep")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InputError("bad_json") from None
    _check_strings(value)
    return value
