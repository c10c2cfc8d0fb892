"""Filtering and pagination of a list (RFC 7644 §3.4.2)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from scim2_models import InvalidValueException, ListResponse, ScimFilter
from scim2_models.path.expressions import Comparison

from scim.resources import dump

T = TypeVar("T")

DEFAULT_COUNT = 100
MAX_COUNT = 200


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be an integer.") from None


def scim_list(
    *,
    query: dict[str, str],
    model: Any,
    items: Iterable[T],
    as_resource: Callable[[T], Any],
) -> dict[str, Any]:
    """Return the ListResponse of ``items`` that match the query's filter.

    The filter is parsed and evaluated by scim2-models (``ScimFilter.match``)
    on each resource, so every operator and value path of the RFC works the
    same; callers narrow ``items`` in SQL first for the common lookups.
    """
    raw_filter = query.get("filter")
    scim_filter = ScimFilter[model](raw_filter) if raw_filter else None
    start = max(_int_param(query, "startIndex", 1), 1)
    count = min(max(_int_param(query, "count", DEFAULT_COUNT), 0), MAX_COUNT)
    resources = [as_resource(item) for item in items]
    if scim_filter is not None:
        resources = [r for r in resources if scim_filter.match(r)]
    page = resources[start - 1 : start - 1 + count]
    response = ListResponse[model](
        total_results=len(resources),
        start_index=start,
        items_per_page=len(page),
        resources=page or None,
    )
    return dump(response)


def equality_on(raw_filter: str | None, attribute: str) -> str | None:
    """Return the value of ``<attribute> eq "value"`` if that is the whole filter.

    Identity providers look a user up this way before every push (Okta:
    ``userName eq``, Entra ID: ``userName eq`` / ``externalId eq``), so it is
    answered by one indexed query rather than by scanning the site.
    """
    if not raw_filter:
        return None
    node = ScimFilter(raw_filter).ast
    if (
        isinstance(node, Comparison)
        and str(node.op) == "eq"
        and node.attr_path.sub_attr is None
        and node.attr_path.attr.casefold() == attribute.casefold()
        and isinstance(node.value, str)
    ):
        return node.value
    return None
