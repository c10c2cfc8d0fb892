from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import UtcDateTimeFilter
from api.models import ApiChange
from api.serializers.agents import AgentCreateSerializer, AgentSerializer
from api.views.base import CreateMixin, SiteModelViewSet, UpdateMixin
from tenants.models import Agent
from tenants.services import agent_deactivate


class AgentFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Agent
        fields: ClassVar = ["email", "role", "department", "is_active"]


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "New supervisor",
                value={"email": "ann@customer.example", "name": "Ann", "role": "supervisor"},
                request_only=True,
            )
        ]
    )
)
class AgentViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    mixins.RetrieveModelMixin,
    UpdateMixin,
    SiteModelViewSet,
):
    """The site's agents: list, create, update, deactivate (never deleted here)."""

    model = Agent
    filterset_class = AgentFilter
    ordering_fields: ClassVar = ["id", "email", "created_at"]
    unique_field = "email"

    def get_serializer_class(self) -> Any:
        return AgentCreateSerializer if self.action == "create" else AgentSerializer

    @extend_schema(request=None, responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Deactivate the agent: their open sessions end at their next request."""
        agent = self.get_object()
        with transaction.atomic():
            was_active = agent.is_active
            agent_deactivate(site=self.site, agent=agent)
            if was_active:
                self.record(agent, ApiChange.Action.DEACTIVATE, ["is_active"])
        return Response(AgentSerializer(agent, context=self.get_serializer_context()).data)
