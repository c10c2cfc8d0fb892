"""Error bodies: ``{"detail", "code"}``, or ``{field: [messages]}`` for
validation errors, so a client always learns which field is at fault.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The change conflicts with another one made at the same time; retry."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The resource changed since you read it: read it again, then retry."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        "Send If-Match with the ETag of your last read "
        "(If-None-Match: * to create settings that do not exist yet)."
    )
    default_code = "precondition_required"


def drf_validation_error(
    error: DjangoValidationError, *, non_field_to: str | None = None
) -> serializers.ValidationError:
    """Return ``error`` as DRF's, keyed by field; model-wide errors go to
    ``non_field_to`` when given (e.g. a uniqueness rule about one field)."""
    if hasattr(error, "error_dict"):
        detail: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            key = field
            if field == NON_FIELD_ERRORS:
                key = non_field_to or api_settings.NON_FIELD_ERRORS_KEY
            detail.setdefault(key, []).extend(messages)
        return serializers.ValidationError(detail)
    key = non_field_to or api_settings.NON_FIELD_ERRORS_KEY
    return serializers.ValidationError({key: error.messages})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django validation errors (400) and races on a
    unique constraint (409); every non-validation body carries a ``code``."""
    if isinstance(exc, DjangoValidationError):
        exc = drf_validation_error(exc)
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, serializers.ValidationError):
        return response
    if isinstance(exc, exceptions.APIException) and isinstance(response.data, dict):
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response
