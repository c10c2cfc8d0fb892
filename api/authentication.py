"""``Authorization: Bearer <token>``: DRF sets ``request.auth`` to the ApiToken.

``request.user`` stays anonymous: a token acts for its site, not for a
person. Views read the site from ``request.auth.site`` only.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from typing_extensions import override

from api.models import ApiToken
from api.selectors import api_token_get_by_raw
from api.services import api_token_touch

logger = logging.getLogger(__name__)

KEYWORD = "Bearer"


class TokenRefused(exceptions.AuthenticationFailed):
    """A missing, unknown, revoked or expired token; ``code`` says which."""


class ApiTokenAuthentication(BaseAuthentication):
    @override
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise TokenRefused("Send one token: Authorization: Bearer <token>.", "token_invalid")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise TokenRefused("The token is not valid.", "token_invalid") from None
        token = api_token_get_by_raw(raw=raw)
        if token is None:
            raise TokenRefused("The token is not valid.", "token_invalid")
        state = token.state
        if state != "active":
            logger.info("api token refused: prefix=%s state=%s", token.prefix, state)
            raise TokenRefused(f"The token is {state}.", f"token_{state}")
        api_token_touch(token=token)
        return AnonymousUser(), token

    @override
    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403.
        return f'{KEYWORD} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A per-site API token, created in the admin (shown once).",
        }
