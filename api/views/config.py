"""Campaigns, custom variables, field mappings (and their try-out), routing
rules and email domains of the token's site.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.config import (
    CampaignSerializer,
    CustomVariableSerializer,
    FieldMappingSerializer,
    MappingTryResultSerializer,
    MappingTrySerializer,
    RoutingRuleSerializer,
    SiteDomainSerializer,
)
from api.views.base import CreateMixin, DestroyMixin, SiteModelViewSet, UpdateMixin
from campaigns.models import Campaign
from chats.models import RoutingRule
from mapping.models import CustomVariable, FieldMapping
from mapping.services import mapping_run, rules_load
from mapping.tryit import sample_decode
from tenants.models import SiteDomain


class CrudViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    mixins.RetrieveModelMixin,
    UpdateMixin,
    DestroyMixin,
    SiteModelViewSet,
):
    pass


class CampaignViewSet(CrudViewSet):
    """Chat campaigns: sign-in mode, pre-chat survey, default group."""

    model = Campaign
    serializer_class = CampaignSerializer
    filterset_fields: ClassVar = ["signin_mode", "visitor_sso", "is_active"]
    ordering_fields: ClassVar = ["id", "name", "created_at"]
    unique_field = "name"


class CustomVariableViewSet(CrudViewSet):
    """Site-defined visitor fields that mappings fill and agents see."""

    model = CustomVariable
    serializer_class = CustomVariableSerializer
    filterset_fields: ClassVar = ["type", "shown_to_agents"]
    ordering_fields: ClassVar = ["id", "key", "order"]
    unique_field = "key"


class FieldMappingViewSet(CrudViewSet):
    """Where each value of the identity provider's data goes, per audience and protocol."""

    model = FieldMapping
    serializer_class = FieldMappingSerializer
    filterset_fields: ClassVar = ["audience", "protocol", "target", "required"]
    ordering_fields: ClassVar = ["id", "source"]
    unique_field = "target"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("variable")

    @extend_schema(
        request=MappingTrySerializer,
        responses=MappingTryResultSerializer,
        examples=[
            OpenApiExample(
                "JWT claims",
                value={"audience": "visitor", "protocol": "jwt", "sample": {"email": "A@B.CO"}},
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="try")
    def try_(self, request: Request) -> Response:
        """Run the site's saved mappings on a sample, as the admin's "try it"
        page does: the same pure engine, nothing signed in or stored."""
        given = MappingTrySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        sample = data["sample"]
        if isinstance(sample, str):
            try:
                sample = sample_decode(sample)
            except forms.ValidationError as error:
                raise serializers.ValidationError({"sample": error.messages}) from None
        if not isinstance(sample, dict):
            raise serializers.ValidationError({"sample": ["Send an object, a JWT or JSON text."]})
        rules = rules_load(site=self.site).get((data["audience"], data["protocol"]), ())
        result = mapping_run(rules, protocol=data["protocol"], claims=sample)
        body = {
            "ok": result.ok,
            "rule_count": len(rules),
            "values": result.values,
            "problems": [
                {"source": p.source, "target": p.target, "code": p.code, "message": p.message}
                for p in result.problems
            ],
        }
        return Response(MappingTryResultSerializer(body).data)


class RoutingRuleFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id")

    class Meta:
        model = RoutingRule
        fields: ClassVar = ["group"]


class RoutingRuleViewSet(CrudViewSet):
    """Rules that send a chat to an agents' group, tried in order per campaign."""

    model = RoutingRule
    serializer_class = RoutingRuleSerializer
    filterset_class = RoutingRuleFilter
    ordering_fields: ClassVar = ["id", "order"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("campaign")


class SiteDomainViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    mixins.RetrieveModelMixin,
    DestroyMixin,
    SiteModelViewSet,
):
    """Email domains the site claims; verify them in the admin (DNS TXT record)."""

    model = SiteDomain
    serializer_class = SiteDomainSerializer
    ordering_fields: ClassVar = ["id", "domain"]
    unique_field = "domain"
