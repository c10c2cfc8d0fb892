"""Audience separation of a site's JWT keys.

A site's agent and visitor settings are two rows. If both trust the same
key, a token minted for visitors (issued to anyone who signs in on the
customer's shop) verifies at the agent callback too, and only ``iss``/``aud``
checks, which are optional, would tell the two apart. So the two rows of a
site may never share key material: not the HS256 secret (compared after
decryption), not a public key (compared by its SubjectPublicKeyInfo DER, so
a re-wrapped or re-encoded PEM of the same key is still caught), not a JWKS
URL (compared normalised).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from django.core.exceptions import NON_FIELD_ERRORS

from sso_site.secret_store import secret_decrypt

_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeyRow(Protocol):
    """What the checks read of a JWT settings row (``sso.jwt.models``
    imports this module, not the other way round).
    """

    @property
    def algorithm(self) -> str: ...
    @property
    def secret_encrypted(self) -> str: ...
    @property
    def public_key(self) -> str: ...
    @property
    def next_public_key(self) -> str: ...
    @property
    def jwks_url(self) -> str: ...
    def get_audience_display(self) -> str: ...


def public_key_der(pem: str) -> bytes | None:
    """Return the SubjectPublicKeyInfo DER of ``pem``, or None if unreadable."""
    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        return None
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def jwks_url_normalised(url: str) -> str:
    """Return ``url`` in a form equal for URLs that name the same document.

    Case of scheme and host, a default port, user info, a fragment, a
    trailing slash, percent-encoding and query order do not make two URLs
    different documents here; erring towards "same" only refuses more.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = unquote(parts.path).rstrip("/") or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((scheme, netloc, path, query, ""))


def served_key_errors(
    config: KeyRow, *, others: Iterable[KeyRow], served: Callable[[KeyRow], frozenset[bytes]]
) -> dict[str, list[str]]:
    """Return clashes ``shared_key_errors`` cannot see without fetching: a key
    that a JWKS URL of one row serves and the other row trusts (as a PEM key,
    or served by another URL). ``others`` are the site's rows of the other
    audience.

    ``served(row)`` returns the DER of the keys ``row``'s JWKS serves; it
    fetches, so this is for the admin form, not for every ``clean()``.
    """
    if config.algorithm == "HS256":
        return {}
    errors: dict[str, list[str]] = {}
    for other in others:
        if other.algorithm == "HS256" or not (config.jwks_url or other.jwks_url):
            continue  # PEM against PEM: shared_key_errors' part
        if (
            config.jwks_url
            and other.jwks_url
            and jwks_url_normalised(config.jwks_url) == jwks_url_normalised(other.jwks_url)
        ):
            continue  # the same URL: shared_key_errors' part
        mine = _ders(config) | (served(config) if config.jwks_url else frozenset())
        theirs = _ders(other) | (served(other) if other.jwks_url else frozenset())
        if mine & theirs:
            other_name = other.get_audience_display().lower()
            field = "jwks_url" if config.jwks_url else "public_key"
            errors.setdefault(field, []).append(
                f"The {other_name} JWT settings of this site trust a key that "
                f"{'this JWKS URL serves' if config.jwks_url else 'is this public key'}"
                f"{' (served by their JWKS URL)' if other.jwks_url else ''}: a token issued "
                f"for {other_name}s would then be accepted for "
                f"{config.get_audience_display().lower()}s. Use a separate key for each audience."
            )
    return errors


def _secret(config: KeyRow) -> str | None:
    if not config.secret_encrypted:
        return None
    return secret_decrypt(config.secret_encrypted)


def _ders(config: KeyRow) -> set[bytes]:
    found = (public_key_der(pem) for pem in (config.public_key, config.next_public_key) if pem)
    return {der for der in found if der is not None}


def shared_key_errors(config: KeyRow, *, others: Iterable[KeyRow]) -> dict[str, list[str]]:
    """Return the fields of ``config`` whose keys ``others`` (the site's
    rows of the other audience) also trust.
    """
    errors: dict[str, list[str]] = {}
    for other in others:
        for field, what in _shared(config, other):
            errors.setdefault(field, []).append(
                f"The {other.get_audience_display().lower()} JWT settings of this site already "
                f"use this {what}: a token issued for {other.get_audience_display().lower()}s "
                f"would then be accepted for {config.get_audience_display().lower()}s. "
                f"Use a separate {what} for each audience."
            )
    return errors


def _shared(config: KeyRow, other: KeyRow) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    # A secret left on a row that has moved to a public-key algorithm is unused.
    both_hs256 = config.algorithm == other.algorithm == "HS256"
    mine, theirs = (_secret(config), _secret(other)) if both_hs256 else (None, None)
    if mine and theirs and hmac.compare_digest(mine.encode(), theirs.encode()):
        # The secret is no form field: the message goes above the form.
        found.append((NON_FIELD_ERRORS, "shared secret"))
    their_ders = _ders(other)
    for field in ("public_key", "next_public_key"):
        pem = getattr(config, field)
        if pem and public_key_der(pem) in their_ders:
            found.append((field, "public key"))
    if (
        config.jwks_url
        and other.jwks_url
        and jwks_url_normalised(config.jwks_url) == jwks_url_normalised(other.jwks_url)
    ):
        found.append(("jwks_url", "JWKS URL"))
    return found
