"""The admin's own parameters, validated before Django uses them, and the
audit log's "why" in words for operators (issue 10).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from tenants.inputs import InputError, ascii_int, text_is_safe

# Date-part lookups of changelist filters and the date hierarchy, and their ranges.
DATE_PART_RANGES = {
    "year": (1, 9999),
    "iso_year": (1, 9999),
    "quarter": (1, 4),
    "month": (1, 12),
    "week": (1, 53),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}


def changelist_params_valid(params: dict[str, str]) -> bool:
    """Return whether every parameter a changelist will filter on is well formed.

    ``?created_at__year=99999`` would reach ``datetime()`` and fail there.
    """
    for name, value in params.items():
        if not text_is_safe(name) or not text_is_safe(value):
            return False
        bounds = DATE_PART_RANGES.get(name.rpartition("__")[2]) if "__" in name else None
        if bounds is not None:
            try:
                ascii_int(value, minimum=bounds[0], maximum=bounds[1])
            except InputError:
                return False
    return True


class BoundedParamsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Validate the admin's own query parameters before Django uses them."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if ERROR_FLAG not in request.GET and not changelist_params_valid(request.GET.dict()):
            # Django's own answer to a filter it cannot apply.
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Drop pre-filled values (``add/?site=...``) that could not be a key or text."""
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            values = value if isinstance(value, list) else [value]
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            keys_ok = (
                field is None or not field.is_relation or all(_is_key(item) for item in values)
            )
            if not keys_ok or not all(text_is_safe(str(item)) for item in values):
                del initial[name]
        return initial


def login_event_why(detail: Any) -> str:
    """Return the audit detail's problems in words for operators."""
    if not isinstance(detail, dict):
        return ""
    words = {
        "missing": "missing",
        "wrong_type": "wrongly typed",
        "not_a_choice": "not an allowed choice",
        "too_long": "too long",
        "bad_default": "bad default",
    }
    parts = [
        f"{p.get('target', '?')} ({p.get('source', '?')}): "
        f"{words.get(str(p.get('code')), str(p.get('code')))}"
        for p in detail.get("problems") or []
        if isinstance(p, dict)
    ]
    if detail.get("identity_problem"):
        parts.append(f"identity: {detail['identity_problem']}")
    return "; ".join(parts)


def _is_key(value: object) -> bool:
    try:
        ascii_int(value, minimum=1)
    except InputError:
        return False
    return True


def admin_params_bound_auth() -> None:
    """Re-register Django's user and group admins with the same parameter checks
    (``?date_joined__year=99999`` would otherwise fail in ``datetime()``).
    """
    from django.contrib.auth.admin import GroupAdmin, UserAdmin
    from django.contrib.auth.models import Group, User

    for model, base in ((User, UserAdmin), (Group, GroupAdmin)):
        bounded = type(f"Bounded{base.__name__}", (BoundedParamsAdmin, base), {})
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, bounded)
