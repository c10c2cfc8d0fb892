"""Filtering, pagination and attribute selection of a list (RFC 7644 §3.4.2,
§3.4.3): one SearchRequest (scim2-models) whether it came as GET query
parameters or as a POST to ``.search``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from scim2_models import Context, ListResponse, ResponseParameters, ScimFilter, SearchRequest
from scim2_models.path.expressions import Comparison, LogicalExpr, ValuePath

from scim.resources import dump

DEFAULT_COUNT = 100
MAX_COUNT = 200
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
QUERY_PARAMETERS = (
    "filter",
    "startIndex",
    "count",
    "attributes",
    "excludedAttributes",
    "sortBy",
    "sortOrder",
)


def search_from_query(model: Any, query: Mapping[str, str]) -> SearchRequest[Any]:
    """Return the SearchRequest a GET's query parameters make."""
    data: dict[str, Any] = {"schemas": [SEARCH_SCHEMA]}
    data.update({name: query[name] for name in QUERY_PARAMETERS if query.get(name)})
    return search_from_body(model, data)


def search_from_body(model: Any, data: dict[str, Any]) -> SearchRequest[Any]:
    """Return the SearchRequest of a POST to ``.search`` (validated)."""
    search: SearchRequest[Any] = SearchRequest[model].model_validate(
        data, scim_ctx=Context.SEARCH_REQUEST
    )
    return search


def params_from_query(model: Any, query: Mapping[str, str]) -> ResponseParameters[Any] | None:
    """Return the ``attributes``/``excludedAttributes`` of a GET of one resource."""
    data = {name: query[name] for name in ("attributes", "excludedAttributes") if query.get(name)}
    if not data:
        return None
    params: ResponseParameters[Any] = ResponseParameters[model].model_validate(data)
    return params


def scim_list(
    *,
    search: SearchRequest[Any],
    model: Any,
    items: QuerySet[Any],
    as_resource: Callable[[Any], Any],
) -> dict[str, Any]:
    """Return the ListResponse of ``items`` that match ``search``'s filter.

    The filter is parsed and evaluated by scim2-models (``ScimFilter.match``)
    on each resource, so every operator and value path of the RFC works the
    same; callers narrow ``items`` in SQL first for the common lookups.
    """
    start = max(search.start_index or 1, 1)
    count = DEFAULT_COUNT if search.count is None else min(max(search.count, 0), MAX_COUNT)
    if search.filter is None:
        # No filter: the database pages, and only the page is built.
        total = items.count()
        page = [as_resource(item) for item in items[start - 1 : start - 1 + count]]
    else:
        scim_filter = search.filter
        resources = [r for r in map(as_resource, items) if scim_filter.match(r)]
        total, page = len(resources), resources[start - 1 : start - 1 + count]
    response = ListResponse[model](
        total_results=total,
        start_index=start,
        items_per_page=len(page),
        resources=page or None,
    )
    return dump(response, params=search)


def equality_hint(search: SearchRequest[Any]) -> tuple[str, str] | None:
    """Return ``(attribute, value)`` when the whole filter is one equality.

    ``attribute`` is casefolded: ``username``, ``externalid``,
    ``displayname`` or ``emails.value`` (also inside a value path such as
    ``emails[type eq "work" and value eq "..."]`` or
    ``emails[type eq "work"].value eq "..."``). Identity providers look a
    user up this way before every push, so callers answer it with one
    indexed query; the filter is still matched on what that query returns,
    so the hint only needs to find a superset.
    """
    if search.filter is None:
        return None
    node = ScimFilter(str(search.filter)).ast
    if isinstance(node, ValuePath):
        terms = node.val_filter.terms if isinstance(node.val_filter, LogicalExpr) else ()
        if isinstance(node.val_filter, LogicalExpr) and str(node.val_filter.op) != "and":
            return None
        for term in terms or (node.val_filter,):
            hint = _eq(term)
            if hint is not None and hint[0] == "value":
                return f"{node.attr_path.attr.casefold()}.value", hint[1]
        return None
    return _eq(node)


def _eq(node: Any) -> tuple[str, str] | None:
    if not isinstance(node, Comparison) or str(node.op) != "eq":
        return None
    if not isinstance(node.value, str):
        return None
    path = node.attr_path
    name = path.attr.casefold() + (f".{path.sub_attr.casefold()}" if path.sub_attr else "")
    return name, node.value
