"""``/Users``: an agent of the site per SCIM User."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from scim2_models import Context, PatchOp, SearchRequest, User

from api.models import ApiChange
from scim.resources import agent_as_user, dump, user_fields
from scim.selectors import scim_agents
from scim.services import scim_user_create, scim_user_delete, scim_user_update
from scim.views.base import ScimView, etag_of
from scim.views.listing import (
    equality_hint,
    params_from_query,
    scim_list,
    search_from_body,
    search_from_query,
)
from tenants.identity_keys import email_key_or_none
from tenants.models import Agent


class ScimUserMixin(ScimView):
    def agents(self) -> QuerySet[Agent]:
        return scim_agents(site=self.site)

    def agent(self, pk: str) -> Agent:
        if not pk.isdigit():
            raise Http404
        agent = self.agents().filter(pk=int(pk)).first()
        if agent is None:
            raise Http404
        return agent

    def user_payload(self, agent: Agent) -> dict[str, Any]:
        payload = dump(agent_as_user(agent, base_url=self.base_url()))
        payload["meta"]["version"] = etag_of(payload)
        return payload

    def answer(self, agent: Agent, status: int = 200) -> Response:
        agent = self.agent(str(agent.pk))  # reloaded with its groups
        payload = self.user_payload(agent)
        return self.scim_response(payload, status, etag=payload["meta"]["version"])


class UserListView(ScimUserMixin):
    def get(self, request: Request, site_id: int) -> Response:
        return self.search(search_from_query(User, request.query_params))

    def search(self, search: SearchRequest[Any]) -> Response:
        agents = self.agents()
        hint = equality_hint(search)
        if hint is not None:
            agents = agents.filter(_narrowing(*hint))
        payload = scim_list(
            search=search,
            model=User,
            items=agents,
            as_resource=lambda a: agent_as_user(a, base_url=self.base_url()),
        )
        return self.scim_response(payload)

    def post(self, request: Request, site_id: int) -> Response:
        user: User[Any] = User.model_validate(
            self.body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST
        )
        with transaction.atomic():
            agent = scim_user_create(site=self.site, **user_fields(user))
            self.record(agent, ApiChange.Action.CREATE, ["email", "name", "is_active"])
        return self.answer(agent, 201)


def _narrowing(attribute: str, value: str) -> Q:
    """Return a query for a superset of the agents ``attribute eq value`` matches."""
    key = email_key_or_none(value)
    by_email = Q(email_key=key) if key else Q(pk__in=[])
    if attribute == "username":
        return Q(directory__user_name__iexact=value) | by_email
    if attribute in {"emails.value", "emails"}:
        return by_email
    if attribute == "externalid":
        return Q(directory__external_id=value)
    return Q()


class UserSearchView(UserListView):
    def post(self, request: Request, site_id: int) -> Response:
        return self.search(search_from_body(User, self.body()))


class UserDetailView(ScimUserMixin):
    def get(self, request: Request, site_id: int, pk: str) -> Response:
        agent = self.agent(pk)
        payload = self.user_payload(agent)
        etag = payload["meta"]["version"]
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        params = params_from_query(User, request.query_params)
        if params is not None:
            payload = dump(agent_as_user(agent, base_url=self.base_url()), params=params)
        return self.scim_response(payload, etag=etag)

    def put(self, request: Request, site_id: int, pk: str) -> Response:
        agent = self.agent(pk)
        self.check_if_match(self.user_payload(agent)["meta"]["version"])
        user: User[Any] = User.model_validate(
            self.body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
        )
        return self._save(agent, user_fields(user))

    def patch(self, request: Request, site_id: int, pk: str) -> Response:
        agent = self.agent(pk)
        self.check_if_match(self.user_payload(agent)["meta"]["version"])
        patch = PatchOp[User[Any]].model_validate(
            self.body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST
        )
        user = agent_as_user(agent, base_url=self.base_url())
        patch.patch(user)
        return self._save(agent, user_fields(user))

    def delete(self, request: Request, site_id: int, pk: str) -> Response:
        agent = self.agent(pk)
        self.check_if_match(self.user_payload(agent)["meta"]["version"])
        with transaction.atomic():
            self.record(agent, ApiChange.Action.DELETE)
            scim_user_delete(site=self.site, agent=agent)
        return Response(status=204)

    def _save(self, agent: Agent, fields: dict[str, Any]) -> Response:
        with transaction.atomic():
            changed = scim_user_update(site=self.site, agent=agent, **fields)
            if changed:
                action = (
                    ApiChange.Action.DEACTIVATE
                    if "is_active" in changed and not agent.is_active
                    else ApiChange.Action.UPDATE
                )
                self.record(agent, action, changed)
        return self.answer(agent)
