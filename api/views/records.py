"""Read-only: visitors, chats, login events (the sign-in audit log), changes."""

from __future__ import annotations

from typing import ClassVar

import django_filters
from rest_framework import mixins

from api.filters import UtcDateTimeFilter
from api.models import ApiChange
from api.serializers.records import (
    ApiChangeSerializer,
    ChatSerializer,
    LoginEventSerializer,
    VisitorSerializer,
)
from api.views.base import SiteModelViewSet
from campaigns.models import Visitor
from chats.models import Chat
from tenants.models import LoginEvent


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteModelViewSet):
    pass


class VisitorFilter(django_filters.FilterSet):
    signed_in_after = UtcDateTimeFilter(field_name="last_sign_in_at", lookup_expr="gte")

    class Meta:
        model = Visitor
        fields: ClassVar = ["external_id", "email", "last_protocol"]


class VisitorViewSet(ReadOnlyViewSet):
    """Visitors who signed in through Visitor SSO, with their mapped fields."""

    model = Visitor
    serializer_class = VisitorSerializer
    filterset_class = VisitorFilter
    ordering_fields: ClassVar = ["id", "external_id", "created_at"]


class ChatFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    visitor = django_filters.NumberFilter(field_name="visitor_id")
    agent = django_filters.NumberFilter(field_name="agent_id")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Chat
        fields: ClassVar = ["status", "group"]


class ChatViewSet(ReadOnlyViewSet):
    """Chats, newest first."""

    model = Chat
    serializer_class = ChatSerializer
    filterset_class = ChatFilter
    ordering_fields: ClassVar = ["id", "created_at"]


class LoginEventFilter(django_filters.FilterSet):
    after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = LoginEvent
        fields: ClassVar = ["outcome", "reason", "audience", "protocol"]


class LoginEventViewSet(ReadOnlyViewSet):
    """Sign-ins, refusals (with their reason code) and sign-outs, newest first."""

    model = LoginEvent
    serializer_class = LoginEventSerializer
    filterset_class = LoginEventFilter
    ordering_fields: ClassVar = ["created_at", "id"]
    ordering: ClassVar = ["-created_at", "-id"]


class ApiChangeFilter(django_filters.FilterSet):
    # Foreign keys filter by number: a choice filter would check the ID
    # against every site's rows and so tell another site's IDs apart.
    token = django_filters.NumberFilter(field_name="token_id")

    class Meta:
        model = ApiChange
        fields: ClassVar = ["object_type", "action"]


class ApiChangeViewSet(ReadOnlyViewSet):
    """What API tokens changed: object, action and field names (never values)."""

    model = ApiChange
    serializer_class = ApiChangeSerializer
    filterset_class = ApiChangeFilter
    ordering_fields: ClassVar = ["id", "created_at"]
