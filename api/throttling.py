"""Per-token rate limit on the shared (Redis) cache.

The rate is read from ``SSO_API_RATE`` at each request, so a deployment (or
a test) can change it without a restart of DRF's class attributes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from typing_extensions import override

from api.models import ApiToken

DEFAULT_RATE = "600/min"


class CacheUnavailable(APIException):
    status_code = 503
    default_detail = "The service is briefly unavailable; try again shortly."
    default_code = "service_unavailable"


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    @override
    def get_rate(self) -> str:
        return str(getattr(settings, "SSO_API_RATE", DEFAULT_RATE))

    @override
    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}

    @override
    def allow_request(self, request: Request, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as error:  # Redis down: answer 503, never 500
            raise CacheUnavailable from error
