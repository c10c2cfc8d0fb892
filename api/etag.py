"""ETag / If-Match for settings: two admins cannot silently overwrite each other.

The ETag is a digest of every stored column of the row, so any change, by
the API, the admin or a queryset update, gives a new one. A write must send
If-Match with the ETag it read (412 when the row changed since, 428 when the
header is missing); settings that do not exist yet are created with
``If-None-Match: *``. The row is locked (SELECT ... FOR UPDATE) while the tag
is compared and the change saved, so two writers with the same tag cannot
both succeed.
"""

from __future__ import annotations

import hashlib

from django.db.models import Model
from rest_framework.request import Request

from api.errors import PreconditionFailed, PreconditionRequired


def etag_of(obj: Model) -> str:
    """Return the strong ETag of ``obj``'s stored state."""
    digest = hashlib.sha256()
    for field in obj._meta.concrete_fields:
        digest.update(f"{field.attname}={field.value_from_object(obj)!r}\0".encode())
    return f'"{digest.hexdigest()[:32]}"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def precondition_check(request: Request, *, current: Model | None) -> None:
    """Raise unless ``request``'s preconditions allow writing over ``current``.

    ``current`` is the locked row, or None when it does not exist yet.
    """
    if_match = request.headers.get("If-Match", "")
    if_none_match = request.headers.get("If-None-Match", "")
    if current is None:
        if if_none_match.strip() == "*":
            return
        if if_match:
            raise PreconditionFailed
        raise PreconditionRequired
    if not if_match:
        if if_none_match.strip() == "*":
            raise PreconditionFailed  # it exists already
        raise PreconditionRequired
    tags = _tags(if_match)
    if "*" not in tags and etag_of(current) not in tags:
        raise PreconditionFailed
