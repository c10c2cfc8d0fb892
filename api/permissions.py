"""Scopes: ``read`` for safe methods, ``write`` for everything else."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from typing_extensions import override

from api.models import ApiToken, Scope


class TokenScope(BasePermission):
    message = "This token lacks the scope this request needs."
    code = "scope_missing"

    @override
    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        needed = Scope.READ if request.method in SAFE_METHODS else Scope.WRITE
        return token.has_scope(needed)
