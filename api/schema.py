"""The OpenAPI schema: every operation lists the errors it can answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from typing_extensions import override

from tenants.models import Agent

# One enum name for agents' roles (the agent's own and the role of agents
# created just in time), for ENUM_NAME_OVERRIDES.
AGENT_ROLES = Agent.Role


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in words.")
    code = serializers.CharField(help_text="A stable code, e.g. not_found, token_expired.")


VALIDATION_ERROR = OpenApiResponse(
    {
        "type": "object",
        "description": "Field name (or non_field_errors) -> messages.",
        "additionalProperties": {},
    },
    description="Validation failed; each key names a field at fault.",
    examples=[
        OpenApiExample("Bad field", value={"email": ["Enter a valid email address."]}),
    ],
)


def _error(description: str, code: str, detail: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[OpenApiExample(code, value={"detail": detail, "code": code})],
    )


COMMON_ERRORS: dict[str, Any] = {
    "400": VALIDATION_ERROR,
    "401": _error(
        "No token, or a revoked, expired or unknown one.", "token_expired", "The token is expired."
    ),
    "403": _error(
        "The token lacks the scope.",
        "scope_missing",
        "This token lacks the scope this request needs.",
    ),
    "404": _error(
        "No such object in the token's site (other sites' objects look the same).",
        "not_found",
        "Not found.",
    ),
    "429": _error(
        "Too many requests for this token; see Retry-After.",
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
    ),
}
WRITE_ERRORS: dict[str, Any] = {
    "409": _error(
        "A concurrent change made this one conflict; retry.",
        "conflict",
        "The change conflicts with another one made at the same time; retry.",
    ),
    "415": _error(
        "The body is not JSON.",
        "unsupported_media_type",
        'Unsupported media type "text/plain" in request.',
    ),
}
PRECONDITION_ERRORS: dict[str, Any] = {
    "412": _error(
        "If-Match names an older version.",
        "precondition_failed",
        "The resource changed since you read it: read it again, then retry.",
    ),
    "428": _error(
        "If-Match is missing.",
        "precondition_required",
        "Send If-Match with the ETag of your last read.",
    ),
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses of every operation."""

    @override
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            errors.update(WRITE_ERRORS)
            if getattr(self.view, "etag_protected", False):
                errors.update(PRECONDITION_ERRORS)
        for code, response in errors.items():
            if code not in bodies:
                bodies[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return bodies
