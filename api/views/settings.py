"""The site's settings and its SAML and JWT settings for each audience.

Reads carry an ``ETag``; writes need ``If-Match`` (see ``api.etag``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from typing_extensions import override

from api.etag import etag_of, precondition_check
from api.models import ApiChange
from api.serializers.settings import (
    JwtSettingsSerializer,
    SamlSettingsSerializer,
    SiteSettingsSerializer,
)
from api.views.base import SiteApiMixin, changed_fields
from sso.jwt.models import JwtSettings
from sso.saml.models import SamlSettings
from tenants.models import Audience

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of your last read (required unless creating).",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`*` to create settings that do not exist yet.",
)
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "Send it back as If-Match."}}


class SettingsViewSet(SiteApiMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """One settings object, read with an ETag, written with If-Match."""

    etag_protected = True
    creatable = False

    def current(self, *, lock: bool) -> models.Model | None:
        raise NotImplementedError

    def save_new(self, serializer: Any) -> Any:
        raise NotImplementedError

    def _respond(self, obj: models.Model, status: int = 200, *, saved: bool = False) -> Response:
        if saved:
            # The tag is of the stored row, as the next read will compute it.
            obj.refresh_from_db()
        response = Response(self.get_serializer(obj).data, status=status)
        response["ETag"] = etag_of(obj)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.current(lock=False)
        if obj is None:
            raise NotFound
        return self._respond(obj)

    def update(
        self, request: Request, *args: Any, partial: bool = False, **kwargs: Any
    ) -> Response:
        with transaction.atomic():
            obj = self.current(lock=True)
            if obj is None and (partial or not self.creatable):
                raise NotFound
            precondition_check(request, current=obj)
            serializer = self.get_serializer(obj, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            names = list(serializer.validated_data)
            if obj is None:
                saved = self.save_new(serializer)
                self.record(saved, ApiChange.Action.CREATE, names)
                return self._respond(saved, status=201, saved=True)
            before = {name: getattr(obj, name, None) for name in names if name != "secret"}
            saved = serializer.save()
            fields = changed_fields(before, saved) + (["secret"] if "secret" in names else [])
            self.record(saved, ApiChange.Action.UPDATE, fields)
            # Inside the transaction: the tag is of this write, not a later one.
            return self._respond(saved, saved=True)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


def _settings_schema(serializer: Any, what: str, examples: tuple[OpenApiExample, ...] = ()) -> Any:
    return extend_schema_view(
        retrieve=extend_schema(
            summary=f"Read the {what}",
            responses={200: serializer},
        ),
        update=extend_schema(
            summary=f"Replace the {what} (If-Match, or If-None-Match: * to create)",
            parameters=[IF_MATCH, IF_NONE_MATCH],
            examples=list(examples),
            responses={200: serializer, 201: serializer},
        ),
        partial_update=extend_schema(
            summary=f"Change some of the {what} (If-Match)",
            parameters=[IF_MATCH],
            responses={200: serializer},
        ),
    )


@_settings_schema(SiteSettingsSerializer, "site's settings")
class SiteSettingsViewSet(SettingsViewSet):
    """The site: name, allowed origins, session lifetime."""

    serializer_class = SiteSettingsSerializer

    @override
    def current(self, *, lock: bool) -> models.Model | None:
        sites = type(self.site).objects.filter(pk=self.site.pk)
        return (sites.select_for_update() if lock else sites).first()


class AudienceSettingsViewSet(SettingsViewSet):
    model: ClassVar[type[models.Model]]
    creatable = True
    lookup_field = "audience"
    lookup_value_regex = "[^/]+"

    @override
    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()
        return self.model._default_manager.filter(site=self.site)

    @override
    def current(self, *, lock: bool) -> models.Model | None:
        audience = self.kwargs["audience"]
        if audience not in Audience.values:
            raise NotFound
        rows = self.get_queryset().select_related("site").filter(audience=audience)
        row: models.Model | None = (rows.select_for_update(of=("self",)) if lock else rows).first()
        return row

    @override
    def save_new(self, serializer: Any) -> Any:
        return serializer.save(site=self.site, audience=self.kwargs["audience"])


AUDIENCE = OpenApiParameter("audience", str, OpenApiParameter.PATH, enum=Audience.values)


@extend_schema(parameters=[AUDIENCE])
@_settings_schema(SamlSettingsSerializer, "SAML settings of one audience")
class SamlSettingsViewSet(AudienceSettingsViewSet):
    """SAML for agents or visitors: the IdP, the policy, and what to give the IdP."""

    model = SamlSettings
    serializer_class = SamlSettingsSerializer


@extend_schema(parameters=[AUDIENCE])
@_settings_schema(
    JwtSettingsSerializer,
    "JWT settings of one audience",
    (
        OpenApiExample(
            "HS256",
            value={
                "enabled": True,
                "login_url": "https://login.customer.example/sso",
                "algorithm": "HS256",
                "secret": "at least 32 random bytes, e.g. openssl rand -base64 48",
            },
            request_only=True,
        ),
    ),
)
class JwtSettingsViewSet(AudienceSettingsViewSet):
    """JWT sign-in for agents or visitors; the shared secret is write-only."""

    model = JwtSettings
    serializer_class = JwtSettingsSerializer
