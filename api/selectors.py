"""Read-only queries of API data."""

from __future__ import annotations

from api.models import TOKEN_PREFIX, ApiToken, token_digest

RAW_TOKEN_MAX = 128


def api_token_get_by_raw(*, raw: str) -> ApiToken | None:
    """Return the token whose raw value is ``raw`` (any state), site loaded.

    A value of the wrong shape costs no query.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > RAW_TOKEN_MAX or not raw.isascii():
        return None
    token: ApiToken | None = (
        ApiToken.objects.select_related("site").filter(digest=token_digest(raw)).first()
    )
    return token
