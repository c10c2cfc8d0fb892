"""Filtering, pagination and attribute selection of a list (RFC 7644 §3.4.2,
§3.4.3): one SearchRequest (scim2-models) whether it came as GET query
parameters or as a POST to ``.search``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from scim2_models import Context, ListResponse, ResponseParameters, ScimFilter, SearchRequest
from scim2_models.path.expressions import Comparison

from scim.resources import dump

T = TypeVar("T")

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
    items: Iterable[T],
    as_resource: Callable[[T], Any],
) -> dict[str, Any]:
    """Return the ListResponse of ``items`` that match ``search``'s filter.

    The filter is parsed and evaluated by scim2-models (``ScimFilter.match``)
    on each resource, so every operator and value path of the RFC works the
    same; callers narrow ``items`` in SQL first for the common lookups.
    """
    start = max(search.start_index or 1, 1)
    count = DEFAULT_COUNT if search.count is None else min(max(search.count, 0), MAX_COUNT)
    resources = [as_resource(item) for item in items]
    if search.filter is not None:
        scim_filter = search.filter
        resources = [r for r in resources if scim_filter.match(r)]
    page = resources[start - 1 : start - 1 + count]
    response = ListResponse[model](
        total_results=len(resources),
        start_index=start,
        items_per_page=len(page),
        resources=page or None,
    )
    return dump(response, params=search)


def equality_on(search: SearchRequest[Any], attribute: str) -> str | None:
    """Return the value of ``<attribute> eq "value"`` if that is the whole filter.

    Identity providers look a user up this way before every push (Okta and
    Entra ID: ``userName eq``), so it is answered by one indexed query
    rather than by scanning the site.
    """
    if search.filter is None:
        return None
    node = ScimFilter(str(search.filter)).ast
    if (
        isinstance(node, Comparison)
        and str(node.op) == "eq"
        and node.attr_path.sub_attr is None
        and node.attr_path.attr.casefold() == attribute.casefold()
        and isinstance(node.value, str)
    ):
        return node.value
    return None
