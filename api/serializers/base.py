"""Serializers run the model's own validation (``full_clean``: field
validators, ``clean()`` and the constraints), the same the admin's forms run,
and report its errors keyed by field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from typing_extensions import override

from api.errors import drf_validation_error
from tenants.models import Site


def model_clean(instance: models.Model, *, unique_field: str | None = None) -> None:
    """Run ``instance.full_clean()``; raise DRF's ValidationError by field."""
    try:
        instance.full_clean()
    except DjangoValidationError as error:
        raise drf_validation_error(error, non_field_to=unique_field) from None


class SiteScopedRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A foreign key to another object of the token's site (others: "does not exist")."""

    def __init__(self, model: type[models.Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    @override
    def get_queryset(self) -> models.QuerySet[Any]:
        request = self.context.get("request")
        token = getattr(request, "auth", None)
        if token is None:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(site=token.site)


class CleanModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Create and update through ``full_clean()`` then ``save()``."""

    @property
    def _unique_field(self) -> str | None:
        field: str | None = self.context.get("unique_field")
        return field

    @override
    def create(self, validated_data: dict[str, Any]) -> Any:
        model: Any = self.Meta.model
        instance = model(**validated_data)
        model_clean(instance, unique_field=self._unique_field)
        instance.save()
        return instance

    @override
    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        model_clean(instance, unique_field=self._unique_field)
        instance.save()
        return instance


def site_of(serializer: serializers.BaseSerializer[Any]) -> Site:
    """Return the token's site from a serializer's context."""
    site: Site = serializer.context["request"].auth.site
    return site
