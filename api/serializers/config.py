"""Campaigns, custom variables, field mappings, routing rules, email domains."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from api.serializers.base import CleanModelSerializer, SiteScopedRelatedField
from campaigns.models import Campaign
from chats.models import RoutingRule
from mapping.models import MAPPED_PROTOCOLS, CustomVariable, FieldMapping
from tenants.models import Audience, SiteDomain


class CampaignSerializer(CleanModelSerializer):
    class Meta:
        model = Campaign
        fields: ClassVar = [
            "id",
            "name",
            "signin_mode",
            "visitor_sso",
            "prechat_survey",
            "survey_fields",
            "default_group",
            "is_active",
            "created_at",
        ]
        read_only_fields: ClassVar = ["created_at"]


class CustomVariableSerializer(CleanModelSerializer):
    class Meta:
        model = CustomVariable
        fields: ClassVar = ["id", "key", "label", "type", "choices", "shown_to_agents", "order"]


class FieldMappingSerializer(CleanModelSerializer):
    variable = SiteScopedRelatedField(
        CustomVariable, required=False, allow_null=True, help_text="For a custom target."
    )
    target_name = serializers.CharField(read_only=True)

    class Meta:
        model = FieldMapping
        fields: ClassVar = [
            "id",
            "audience",
            "protocol",
            "source",
            "multi_value",
            "target",
            "variable",
            "target_name",
            "type",
            "required",
            "default",
            "trim",
            "lower",
        ]


class MappingTrySerializer(serializers.Serializer[Any]):
    """A sample to run the site's saved mappings on; nothing is signed in or stored."""

    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.VISITOR)
    protocol = serializers.ChoiceField(choices=MAPPED_PROTOCOLS, default="jwt")
    sample = serializers.JSONField(
        help_text="JWT claims (an object, or a JWT decoded WITHOUT checking its signature), "
        "or SAML attributes (name -> list of values)."
    )


class MappingProblemSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class MappingTryResultSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    rule_count = serializers.IntegerField()
    values = serializers.DictField(child=serializers.JSONField())
    problems = MappingProblemSerializer(many=True)


class RoutingRuleSerializer(CleanModelSerializer):
    campaign = SiteScopedRelatedField(Campaign)

    class Meta:
        model = RoutingRule
        fields: ClassVar = ["id", "campaign", "order", "field", "operator", "value", "group"]


class SiteDomainSerializer(CleanModelSerializer):
    txt_record = serializers.CharField(read_only=True)

    class Meta:
        model = SiteDomain
        fields: ClassVar = [
            "id",
            "domain",
            "verified_at",
            "verified_by",
            "txt_record",
            "created_at",
        ]
        read_only_fields: ClassVar = ["verified_at", "verified_by", "created_at"]
