"""Where a mapping's source finds its raw value: a dotted path into JWT
claims, or a SAML attribute by name or friendly name. Pure, like the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from saml2.attributemaps import basic, saml_uri

MISSING: Any = object()


def lookup(data: Mapping[str, Any], source: str, *, saml: bool) -> Any:
    """Return the raw value ``source`` names in ``data``, or ``MISSING``."""
    return _saml_attribute(data, source) if saml else _claim(data, source)


def _claim(data: Any, path: str) -> Any:
    """Follow a dotted ``path`` into nested claims; a key holding dots wins.

    ``account.tier`` reads ``data["account"]["tier"]`` unless ``data`` has a
    key ``"account.tier"`` itself (namespaced claims such as
    ``https://example.com/tier`` contain dots); a numeric segment indexes a list.
    Trying the ways to split a path is bounded, whatever the claims hold.
    """
    return _walk(data, path, [LOOKUP_BUDGET])


LOOKUP_BUDGET = 256


def _walk(data: Any, path: str, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        return MISSING
    if isinstance(data, (dict, Mapping)):  # dict first: the ABC check is slow
        if path in data:
            return data[path]
        head, dot, rest = path.partition(".")
        while dot:
            if head in data:
                found = _walk(data[head], rest, budget)
                if found is not MISSING:
                    return found
            more, dot, rest = rest.partition(".")
            head = f"{head}.{more}"
        return MISSING
    if isinstance(data, list) and path:
        index, _, rest = path.partition(".")
        if index.isdigit() and int(index) < len(data):
            return _walk(data[int(index)], rest, budget) if rest else data[int(index)]
    return MISSING


def _build_saml_aliases() -> dict[str, tuple[str, ...]]:
    aliases: dict[str, set[str]] = {}
    for table in (saml_uri.MAP["fro"], basic.MAP["fro"]):
        for name, friendly in table.items():
            aliases.setdefault(name.lower(), set()).add(friendly)
            aliases.setdefault(friendly.lower(), set()).add(name)
    return {key: tuple(sorted(names)) for key, names in aliases.items()}


SAML_ALIASES = _build_saml_aliases()


def _saml_attribute(data: Mapping[str, Any], source: str) -> Any:
    """Return the attribute named ``source``, by name or friendly name.

    pysaml2 keys ``ava`` by friendly name when it knows the attribute, by
    its full name otherwise; either spelling of the source finds it.
    """
    if source in data:
        return data[source]
    for alias in SAML_ALIASES.get(source.lower(), ()):
        if alias in data:
            return data[alias]
    folded = source.lower()
    for key, value in data.items():
        if key.lower() == folded:
            return value
    return MISSING
