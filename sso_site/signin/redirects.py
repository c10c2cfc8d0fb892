"""Where a browser may be sent after signing in: this service or the site's
own listed origins, nothing else.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Site, normalise_origin


def redirect_target_check(
    request: HttpRequest, *, site: Site, target: str | None, default: str
) -> str:
    """Return ``target`` if it may be followed for ``site``, else raise.

    An empty ``target`` gives ``default``. Relative paths and this host are
    allowed; absolute URLs only to an origin the site lists. Django's check
    rejects ``//evil``, ``\\\\evil``, control characters and other tricks
    before the origin list is consulted.
    """
    if not target:
        return default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    allowed = set(site.allowed_origin_list)
    hosts = {origin.split("://", 1)[1] for origin in allowed}
    if url_has_allowed_host_and_scheme(target, allowed_hosts=hosts) and (
        normalise_origin(target) in allowed
    ):
        return target
    raise SignInRefused(RefusalReason.UNSAFE_REDIRECT, site=site, detail={"target": target[:200]})
