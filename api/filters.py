"""Filters whose values are parsed once, at the boundary, into what the
database accepts: a time with any offset Python reads is moved to UTC
(PostgreSQL refuses offsets past +-15:59), and one out of range is a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from typing_extensions import override


class UtcIsoDateTimeField(forms.DateTimeField):
    @override
    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = django_filters.fields.IsoDateTimeField().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC."""

    field_class = UtcIsoDateTimeField
