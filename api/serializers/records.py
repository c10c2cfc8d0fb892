"""Read-only records: visitors, chats, login events, the API change log."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from api.models import ApiChange
from campaigns.models import Visitor
from chats.models import Chat
from tenants.models import LoginEvent


class VisitorSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = Visitor
        fields: ClassVar = [
            "id",
            "external_id",
            "name",
            "email",
            "phone",
            "custom",
            "created_at",
            "last_sign_in_at",
            "last_protocol",
        ]
        read_only_fields = fields


class ChatSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = Chat
        fields: ClassVar = [
            "id",
            "campaign",
            "visitor",
            "guest_label",
            "status",
            "group",
            "agent",
            "survey_answers",
            "created_at",
        ]
        read_only_fields = fields


class LoginEventSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = LoginEvent
        fields: ClassVar = [
            "id",
            "created_at",
            "audience",
            "protocol",
            "outcome",
            "reason",
            "subject",
            "client_ip",
            "user_agent",
            "detail",
        ]
        read_only_fields = fields


class ApiChangeSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = ApiChange
        fields: ClassVar = [
            "id",
            "created_at",
            "token",
            "token_name",
            "object_type",
            "object_id",
            "action",
            "fields",
        ]
        read_only_fields = fields
