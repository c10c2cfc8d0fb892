from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from typing_extensions import override

from api.errors import drf_validation_error
from api.serializers.base import CleanModelSerializer, model_clean, site_of
from tenants.models import Agent
from tenants.services import agent_create

AGENT_FIELDS = [
    "id",
    "email",
    "name",
    "role",
    "department",
    "is_active",
    "created_at",
    "last_sign_in_at",
]
READ_ONLY = ["is_active", "created_at", "last_sign_in_at"]


class AgentSerializer(CleanModelSerializer):
    """An agent; the email is their sign-in identity and is fixed once created."""

    class Meta:
        model = Agent
        fields = AGENT_FIELDS
        read_only_fields: ClassVar = ["email", *READ_ONLY]


class AgentCreateSerializer(CleanModelSerializer):
    class Meta:
        model = Agent
        fields = AGENT_FIELDS
        read_only_fields: ClassVar = READ_ONLY

    @override
    def create(self, validated_data: dict[str, Any]) -> Agent:
        # The service the sign-in path uses for just-in-time agents.
        try:
            agent = agent_create(
                site=site_of(self),
                email=validated_data["email"],
                name=validated_data.get("name", ""),
                role=validated_data.get("role", Agent.Role.AGENT),
            )
        except DjangoValidationError as error:
            raise drf_validation_error(error, non_field_to="email") from None
        if validated_data.get("department"):
            agent.department = validated_data["department"]
            model_clean(agent, unique_field="email")
            agent.save(update_fields=["department"])
        return agent
