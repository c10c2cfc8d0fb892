"""``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas`` (RFC 7644 §4)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Group,
    NotImplementedException,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)

from scim.resources import dump
from scim.views.base import ScimView
from scim.views.listing import MAX_COUNT

RESOURCES = (User, Group)


def _config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_COUNT),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="A per-site API token with the scim scope, made in the admin.",
                primary=True,
            )
        ],
    )


class ServiceProviderConfigView(ScimView):
    def get(self, request: Request, site_id: int) -> Response:
        payload = dump(_config())
        payload["meta"] = {
            "resourceType": "ServiceProviderConfig",
            "location": f"{self.base_url()}/ServiceProviderConfig",
        }
        return self.scim_response(payload)


def _resource_type(model: Any, base_url: str) -> dict[str, Any]:
    payload = dump(ResourceType.from_resource(model))
    payload["meta"] = {
        "resourceType": "ResourceType",
        "location": f"{base_url}/ResourceTypes/{payload['id']}",
    }
    return payload


def _schema(model: Any, base_url: str) -> dict[str, Any]:
    payload = dump(model.to_schema())
    for attribute in payload.get("attributes", []):
        if model is User and attribute["name"] == "emails":
            # An agent is an email address: a User needs one (or an email
            # as its userName), and says so to clients that read the schema.
            attribute["required"] = True
            for sub in attribute.get("subAttributes", []):
                sub["required"] = sub["required"] or sub["name"] == "value"
    payload["meta"] = {"resourceType": "Schema", "location": f"{base_url}/Schemas/{payload['id']}"}
    return payload


def _listed(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


class ResourceTypeView(ScimView):
    def get(self, request: Request, site_id: int, pk: str | None = None) -> Response:
        items = [_resource_type(model, self.base_url()) for model in RESOURCES]
        if pk is None:
            return self.scim_response(_listed(items))
        found = next((item for item in items if item["id"] == pk), None)
        if found is None:
            raise Http404
        return self.scim_response(found)


class SchemaView(ScimView):
    def get(self, request: Request, site_id: int, pk: str | None = None) -> Response:
        items = [_schema(model, self.base_url()) for model in RESOURCES]
        if pk is None:
            return self.scim_response(_listed(items))
        found = next((item for item in items if item["id"] == pk), None)
        if found is None:
            raise Http404
        return self.scim_response(found)


class RootSearchView(ScimView):
    """``/.search`` across resource types is not offered (RFC 7644 §3.4.3: 501)."""

    def post(self, request: Request, site_id: int) -> Response:
        raise NotImplementedException(
            detail="Search one resource type: POST /Users/.search or /Groups/.search."
        )


class UnknownView(ScimView):
    """Any other path under a site's SCIM root: a SCIM 404."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise Http404

    post = put = patch = delete = get
