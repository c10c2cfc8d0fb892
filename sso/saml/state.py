"""What one browser's SAML session remembers, per (site, audience).

Kept in djangosaml2's SAML session (``request.saml_session``, a session of
its own with its own cookie, stored server side like Django's), under one key
per site and audience, so a request started at site A never answers at site
B, nor an agent's request at the visitor ACS:

- the outstanding requests this browser sent (``kind`` "authn" for
  AuthnRequests; other kinds, e.g. "logout", for the single-logout side):
  their ID, the return address and when they were sent; each is used once;
The subject of a SAML sign-in (its NameID in pysaml2's compact encoding,
``saml2.ident.code``, and its SessionIndex), which single logout needs, is
not kept here: it travels with the identity into ``sign_in()``
(``VerifiedIdentity.logout``, see ``saml_logout_data``) and lives in the
session binding, so a sign-in writes one session row, not two. Sign-ins
made before that kept it here; ``saml_subject_get`` still reads those.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from saml2.ident import code, decode
from saml2.saml import NameID

from sso_site.signin.session import logout_data
from tenants.models import Audience, Site

# A browser keeps at most this many requests outstanding per kind, site and
# audience (the newest), each for at most REQUEST_MAX_AGE seconds.
REQUESTS_MAX = 8
REQUEST_MAX_AGE = 3600


@dataclass(frozen=True)
class SamlSubject:
    """Who the IdP said signed in at this site, for this audience."""

    name_id: NameID | None
    session_index: str


def saml_request_remember(
    request: HttpRequest,
    *,
    site: Site,
    audience: Audience | str,
    request_id: str,
    return_to: str = "",
    kind: str = "authn",
) -> None:
    """Remember that this browser sent request ``request_id`` to ``site``'s IdP."""
    state = _state(request, site=site, audience=audience)
    requests = _fresh(state.get(kind) or {})
    requests[request_id] = [return_to, int(time.time())]
    newest = sorted(requests.items(), key=lambda item: item[1][1])[-REQUESTS_MAX:]
    state[kind] = dict(newest)
    _save(request, site=site, audience=audience, state=state)


def saml_requests_outstanding(
    request: HttpRequest, *, site: Site, audience: Audience | str, kind: str = "authn"
) -> dict[str, str]:
    """Return this browser's unanswered requests to ``site``: ID -> return address."""
    state = _state(request, site=site, audience=audience)
    return {key: value[0] for key, value in _fresh(state.get(kind) or {}).items()}


def saml_request_consume(
    request: HttpRequest,
    *,
    site: Site,
    audience: Audience | str,
    request_id: str,
    kind: str = "authn",
) -> bool:
    """Forget ``request_id``; return whether it was outstanding (once only)."""
    state = _state(request, site=site, audience=audience)
    requests = _fresh(state.get(kind) or {})
    found = requests.pop(request_id, None) is not None
    state[kind] = requests
    _save(request, site=site, audience=audience, state=state)
    return found


def saml_logout_data(*, name_id: NameID | None, session_index: str | None) -> dict[str, str]:
    """Return what single logout needs of a sign-in, for ``VerifiedIdentity.logout``."""
    return {
        "name_id": code(name_id) if name_id is not None else "",
        "session_index": session_index or "",
    }


def saml_subject_get(
    request: HttpRequest, *, site: Site, audience: Audience | str
) -> SamlSubject | None:
    """Return the subject of this browser's SAML sign-in at ``site``, or None."""
    subject: Any = logout_data(request, site=site, audience=audience)
    if "session_index" not in subject:
        # A sign-in from before the subject moved into the session binding.
        subject = _state(request, site=site, audience=audience).get("subject")
    if not isinstance(subject, dict):
        return None
    encoded = subject.get("name_id")
    return SamlSubject(
        name_id=decode(encoded) if encoded else None,
        session_index=str(subject.get("session_index") or ""),
    )


def saml_subject_forget(request: HttpRequest, *, site: Site, audience: Audience | str) -> None:
    """Forget the subject (after single logout); ``sign_out()`` already
    dropped the binding that held it, only an older sign-in's is left here.
    """
    state = _state(request, site=site, audience=audience)
    if state.pop("subject", None) is not None:
        _save(request, site=site, audience=audience, state=state)


def _session(request: HttpRequest) -> SessionBase:
    session: SessionBase = request.saml_session  # type: ignore[attr-defined]
    return session


def _key(site: Site, audience: Audience | str) -> str:
    return f"sso_saml:{site.pk}:{audience}"


def _state(request: HttpRequest, *, site: Site, audience: Audience | str) -> dict[str, Any]:
    state = _session(request).get(_key(site, audience))
    return dict(state) if isinstance(state, dict) else {}


def _save(
    request: HttpRequest, *, site: Site, audience: Audience | str, state: dict[str, Any]
) -> None:
    # A new dict each time: the session sees the assignment and saves.
    _session(request)[_key(site, audience)] = state


def _fresh(requests: dict[str, Any]) -> dict[str, Any]:
    oldest = time.time() - REQUEST_MAX_AGE
    return {
        key: value
        for key, value in requests.items()
        if isinstance(value, list) and len(value) == 2 and value[1] >= oldest
    }
