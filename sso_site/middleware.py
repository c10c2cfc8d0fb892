"""The last line of the input boundary: a request whose body cannot be read
answers 400 with a code, not a server error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError

logger = logging.getLogger(__name__)


class InputBoundaryMiddleware:
    """Answer 400 ``unreadable_body`` when a view could not read the request body.

    A body shorter than its Content-Length (a client that hung up or lied)
    surfaces as ``UnreadablePostError`` wherever the body is first read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UnreadablePostError):
            logger.info("unreadable request body path=%s", request.path)
            return JsonResponse({"error": "unreadable_body"}, status=400)
        return None
