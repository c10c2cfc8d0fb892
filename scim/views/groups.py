"""``/Groups``: the directory's groups and their member agents."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from scim2_models import Context, Group, PatchOp, SearchRequest

from api.models import ApiChange
from scim.models import ScimGroup
from scim.resources import dump, group_as_group
from scim.selectors import scim_groups
from scim.services import scim_group_delete, scim_group_save
from scim.views.base import ScimView, etag_of
from scim.views.listing import (
    equality_hint,
    params_from_query,
    scim_list,
    search_from_body,
    search_from_query,
)
from tenants.models import Agent


class ScimGroupMixin(ScimView):
    def groups(self) -> QuerySet[ScimGroup]:
        return scim_groups(site=self.site)

    def group(self, pk: str) -> ScimGroup:
        group = self.groups().filter(pk=int(pk)).first() if pk.isdigit() else None
        if group is None:
            raise Http404
        return group

    def group_payload(self, group: ScimGroup) -> dict[str, Any]:
        payload = dump(group_as_group(group, base_url=self.base_url()))
        payload["meta"]["version"] = etag_of(payload)
        return payload

    def answer(self, group: ScimGroup, status: int = 200) -> Response:
        payload = self.group_payload(self.group(str(group.pk)))
        return self.scim_response(payload, status, etag=payload["meta"]["version"])

    def save(self, group: ScimGroup | None, resource: Group) -> ScimGroup:
        """Save ``resource``; members that are no agent of the site are ignored."""
        ids = [
            int(m.value)
            for m in resource.members or []
            if m.value and m.value.isdigit() and m.type != "Group"  # no nested groups
        ]
        members = Agent.objects.for_site(self.site).filter(pk__in=ids)
        with transaction.atomic():
            saved = scim_group_save(
                site=self.site,
                group=group,
                display_name=(resource.display_name or "")[:255],
                external_id=(resource.external_id or "")[:255],
                members=members,
            )
            action = ApiChange.Action.CREATE if group is None else ApiChange.Action.UPDATE
            self.record(saved, action, ["display_name", "members"])
        return saved


class GroupListView(ScimGroupMixin):
    def get(self, request: Request, site_id: int) -> Response:
        return self.search(search_from_query(Group, request.query_params))

    def search(self, search: SearchRequest[Any]) -> Response:
        groups = self.groups()
        hint = equality_hint(search)
        if hint is not None and hint[0] == "displayname":
            groups = groups.filter(display_name__iexact=hint[1])
        elif hint is not None and hint[0] == "externalid":
            groups = groups.filter(external_id=hint[1])
        payload = scim_list(
            search=search,
            model=Group,
            items=groups,
            as_resource=lambda g: group_as_group(g, base_url=self.base_url()),
        )
        return self.scim_response(payload)

    def post(self, request: Request, site_id: int) -> Response:
        group = Group.model_validate(self.body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        return self.answer(self.save(None, group), 201)


class GroupSearchView(GroupListView):
    def post(self, request: Request, site_id: int) -> Response:
        return self.search(search_from_body(Group, self.body()))


class GroupDetailView(ScimGroupMixin):
    def get(self, request: Request, site_id: int, pk: str) -> Response:
        group = self.group(pk)
        payload = self.group_payload(group)
        etag = payload["meta"]["version"]
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        params = params_from_query(Group, request.query_params)
        if params is not None:
            payload = dump(group_as_group(group, base_url=self.base_url()), params=params)
        return self.scim_response(payload, etag=etag)

    def put(self, request: Request, site_id: int, pk: str) -> Response:
        group = self.group(pk)
        self.check_if_match(self.group_payload(group)["meta"]["version"])
        resource = Group.model_validate(self.body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        return self.answer(self.save(group, resource))

    def patch(self, request: Request, site_id: int, pk: str) -> Response:
        group = self.group(pk)
        self.check_if_match(self.group_payload(group)["meta"]["version"])
        patch = PatchOp[Group].model_validate(self.body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        resource = group_as_group(group, base_url=self.base_url())
        patch.patch(resource)
        return self.answer(self.save(group, resource))

    def delete(self, request: Request, site_id: int, pk: str) -> Response:
        group = self.group(pk)
        self.check_if_match(self.group_payload(group)["meta"]["version"])
        with transaction.atomic():
            self.record(group, ApiChange.Action.DELETE)
            scim_group_delete(site=self.site, group=group)
        return Response(status=204)
