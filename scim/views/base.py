"""The base of every SCIM view: the api app's bearer token with the ``scim``
scope, for the site in the URL only, and every error as a SCIM Error body.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, NoReturn, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from pydantic import ValidationError
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from scim2_models import Error, InvalidValueException, SCIMException
from typing_extensions import override

from api.authentication import ApiTokenAuthentication
from api.models import ApiChange, ApiToken, Scope
from api.services import api_change_record
from api.throttling import TokenRateThrottle
from tenants.inputs import text_clean_deep
from tenants.models import Site

logger = logging.getLogger(__name__)

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimParser(JSONParser):
    media_type = SCIM_MEDIA_TYPE


class ScimRenderer(JSONRenderer):
    media_type = SCIM_MEDIA_TYPE


class ScimScope(BasePermission):
    """The token has the ``scim`` scope and belongs to the site in the URL."""

    message = "This token does not grant SCIM provisioning of this site."

    @override
    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or not token.has_scope(Scope.SCIM):
            return False
        if str(token.site.site_id) != str(view.kwargs.get("site_id")):
            # Logged by prefix only: a token of site A tried site B.
            logger.warning(
                "scim token refused: prefix=%s wrong_site=%s",
                token.prefix,
                view.kwargs.get("site_id"),
            )
            return False
        return True


def etag_of(payload: dict[str, Any]) -> str:
    """Return a weak ETag of a resource's content (its ``meta`` left out)."""
    body = {key: value for key, value in payload.items() if key != "meta"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode())
    return f'W/"{digest.hexdigest()[:20]}"'


class ScimView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [ScimScope]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [ScimParser, JSONParser]
    renderer_classes = [ScimRenderer, JSONRenderer]
    metadata_class = None
    schema = None  # SCIM is described by its own discovery endpoints

    @property
    def token(self) -> ApiToken:
        return cast(ApiToken, self.request.auth)

    @property
    def site(self) -> Site:
        return self.token.site

    def base_url(self) -> str:
        return self.request.build_absolute_uri(f"/scim/v2/{self.site.site_id}")

    def record(self, obj: Any, action: ApiChange.Action, fields: Any = ()) -> None:
        """Record one SCIM change in the change log (field names, never values)."""
        api_change_record(site=self.site, token=self.token, obj=obj, action=action, fields=fields)

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise exceptions.ParseError("The body must be a JSON object.")
        if text_clean_deep(data) != data:
            # NUL and control characters belong in no name or identifier;
            # refused rather than stripped, so no value becomes another.
            raise InvalidValueException(detail="Control characters are not accepted.")
        return data

    def scim_response(
        self, payload: dict[str, Any], status: int = 200, *, etag: str | None = None
    ) -> Response:
        response = Response(payload, status=status, content_type=SCIM_MEDIA_TYPE)
        if etag:
            response["ETag"] = etag
        return response

    def check_if_match(self, current: str) -> None:
        """Refuse a write whose If-Match names another version (RFC 7644 §3.14)."""
        wanted = self.request.headers.get("If-Match")
        if (
            wanted
            and wanted.strip() != "*"
            and current not in {v.strip() for v in wanted.split(",")}
        ):
            raise _Precondition

    @override
    def handle_exception(self, exc: Exception) -> Response:
        status, scim_type, detail = _error_of(exc)
        error = Error(status=status, scim_type=scim_type or None, detail=detail)
        response = Response(
            error.model_dump(exclude_none=True), status=status, content_type=SCIM_MEDIA_TYPE
        )
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="scim"'
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            response["Retry-After"] = str(int(wait))
        response.exception = True
        return response

    @override
    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> NoReturn:
        if request.auth is None:
            raise exceptions.NotAuthenticated
        raise exceptions.PermissionDenied(message)


class _Precondition(Exception):  # noqa: N818 - internal signal
    pass


def _error_of(exc: Exception) -> tuple[int, str, str]:
    """Return (status, scimType, detail) for ``exc``; unknown errors re-raise."""
    if isinstance(exc, SCIMException):
        scim_error = exc.to_error()
        return scim_error.status or 400, scim_error.scim_type or "", scim_error.detail or ""
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        for error in errors:
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, SCIMException):
                return _error_of(cause)
        # Field locations only: the input values may be personal data.
        where = sorted({".".join(map(str, e["loc"])) for e in errors})[:5]
        scim_type = "invalidFilter" if "filter" in where else "invalidValue"
        return 400, scim_type, "Invalid value for: " + (", ".join(where) or "body")
    if isinstance(exc, DjangoValidationError):
        messages = exc.messages
        unique = any("already has" in m for m in messages)
        return (
            (409 if unique else 400),
            ("uniqueness" if unique else "invalidValue"),
            (" ".join(messages)[:300]),
        )
    if isinstance(exc, IntegrityError):
        return 409, "uniqueness", "The resource conflicts with an existing one."
    if isinstance(exc, _Precondition):
        return 412, "", "The resource changed since you read it (If-Match)."
    if isinstance(exc, Http404):
        return 404, "", "Resource not found."
    if isinstance(exc, exceptions.ParseError):
        return 400, "invalidSyntax", "The body is not valid JSON."
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 415, "", "Send application/scim+json."
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, "", str(exc.detail)
    raise exc
