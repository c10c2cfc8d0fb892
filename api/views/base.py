"""The base of every API view: token, scope, rate limit, site scoping, audit.

Querysets are ``Model.objects.for_site(request.auth.site)``: another site's
object is then exactly as absent as one that does not exist (404), and never
listed. Every write runs in one transaction with its change-log row.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db import models, transaction
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from typing_extensions import override

from api.authentication import ApiTokenAuthentication
from api.models import ApiChange, ApiToken
from api.pagination import ApiCursorPagination
from api.permissions import TokenScope
from api.schema import ApiAutoSchema
from api.services import api_change_record
from api.throttling import TokenRateThrottle
from tenants.models import Site


class SiteApiMixin(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [TokenScope]
    throttle_classes = [TokenRateThrottle]
    metadata_class = None  # no OPTIONS description: the schema is the description
    schema = ApiAutoSchema()

    @property
    def token(self) -> ApiToken:
        return cast(ApiToken, self.request.auth)

    @property
    def site(self) -> Site:
        return self.token.site

    def record(self, obj: models.Model, action: ApiChange.Action, fields: Any = ()) -> None:
        api_change_record(site=self.site, token=self.token, obj=obj, action=action, fields=fields)


def changed_fields(before: dict[str, Any], obj: models.Model) -> list[str]:
    """Return the names in ``before`` whose value on ``obj`` is now different."""
    return [name for name, value in before.items() if getattr(obj, name, value) != value]


class SiteModelViewSet(SiteApiMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """A site's objects of ``model``; subclasses add the actions they allow."""

    model: ClassVar[type[models.Model]]
    # Any path segment reaches the view, which answers 404 in JSON for an ID
    # that is not a number, rather than the resolver's HTML page.
    lookup_value_regex = "[^/]+"
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields: ClassVar = ["id"]
    ordering: ClassVar = ["-id"]
    # A model-wide validation error (a uniqueness rule) is reported on this field.
    unique_field: ClassVar[str | None] = None

    @override
    def get_queryset(self) -> models.QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no token
            return self.model._default_manager.none()
        return self.model._default_manager.filter(site=self.site)

    @override
    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["unique_field"] = self.unique_field
        return context


class CreateMixin(mixins.CreateModelMixin):
    """Create in the token's site, with its change-log row, in one transaction."""

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        view: Any = self
        with transaction.atomic():
            obj = serializer.save(site=view.site)
            view.record(obj, ApiChange.Action.CREATE, serializer.validated_data)


class UpdateMixin(mixins.UpdateModelMixin):
    """Update, recording the names of the fields whose value changed."""

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        view: Any = self
        before = {
            name: getattr(serializer.instance, name, None) for name in serializer.validated_data
        }
        with transaction.atomic():
            obj = serializer.save()
            view.record(obj, ApiChange.Action.UPDATE, changed_fields(before, obj))


class DestroyMixin(mixins.DestroyModelMixin):
    def perform_destroy(self, instance: models.Model) -> None:
        view: Any = self
        with transaction.atomic():
            view.record(instance, ApiChange.Action.DELETE)
            instance.delete()
