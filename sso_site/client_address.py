"""Behind ``make serve``'s nginx, the client's address is in ``X-Real-IP``
(nginx overwrites whatever the client sent). With ``SSO_CLIENT_IP_HEADER``
set (``HTTP_X_REAL_IP``), this middleware puts it into ``REMOTE_ADDR``, so
the audit log and the rate limits see the client, not the proxy. Set it only
when the app is reachable through that proxy alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header: str = getattr(settings, "SSO_CLIENT_IP_HEADER", "") or ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.header:
            value = str(request.META.get(self.header, "")).strip()
            with contextlib.suppress(ValueError):  # not an address: keep the peer's
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(value))
        return self.get_response(request)
