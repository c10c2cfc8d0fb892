"""The one validator of identities (email, subject) and the normalised key
people are matched on, for every protocol.

An agent (or a visitor keyed by email) is found by ``email_key()``: Unicode
NFKC, then case-folded, the domain IDNA-normalised (UTS #46, A-labels). Never
by a database collation's idea of "case-insensitive", which folds some
non-ASCII letters (dotless i, long s, the Kelvin sign) to ASCII ones.

A subject that normalisation would change in a way that could make it
collide with another (compatibility forms, decomposed accents, a non-ASCII
letter folding to ASCII), or that mixes scripts or holds a letter that looks
like an ASCII one, is refused: ``IdentityError`` with a code, never matched to
someone else. Local parts are ASCII (RFC 5321 without SMTPUTF8); domains may
be internationalised, one script per label, no look-alike of an ASCII letter.

No model and no Django at import time: the pure mapping engine uses it too.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import idna
from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

EMAIL_MAX = 254
SUBJECT_MAX = 255


class IdentityError(ValueError):
    """A subject that cannot be an identity; ``code`` says why (never the value)."""

    # invalid: not an email / not printable / empty; too_long;
    # not_normalised: changes under NFKC or case folding in a way that could collide;
    # not_allowed: non-ASCII where the site allows none;
    # mixed_script, confusable: look-alikes.
    LOOKALIKE_CODES = frozenset({"not_normalised", "not_allowed", "mixed_script", "confusable"})

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def lookalike(self) -> bool:
        return self.code in self.LOOKALIKE_CODES


def subject_validate(value: object, *, max_length: int = SUBJECT_MAX) -> str:
    """Return ``value`` stripped if it can name someone (printable, not empty), else raise."""
    if not isinstance(value, str):
        raise IdentityError("invalid")
    value = value.strip()
    if not value or not value.isprintable():
        raise IdentityError("invalid")
    if len(value) > max_length:
        raise IdentityError("too_long")
    return value


def email_validate(value: object) -> str:
    """Return ``value`` stripped if it is an email address we accept, else raise.

    The one email rule of every protocol and of the mapping engine.
    """
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = subject_validate(value, max_length=EMAIL_MAX)
    local = value.rpartition("@")[0]
    if not local.isascii():
        # Django's pattern, case-insensitive, lets a few non-ASCII letters
        # (dotless i, long s, Kelvin sign) through as if they were a-z.
        raise IdentityError("not_allowed")
    try:
        validate_email(value)
    except ValidationError:
        raise IdentityError("invalid") from None
    return value


def email_subject(value: object) -> str:
    """Return the email a protocol's claim or attribute names, for ``sign_in()``.

    A valid address, stripped; a look-alike, as given (the session layer
    refuses it with its own reason, ``identity_lookalike``); anything else
    "" (no email). The one function JWT and SAML adapters call.
    """
    try:
        return email_validate(value)
    except IdentityError as error:
        return str(value).strip() if error.lookalike else ""


def email_key(value: object) -> str:
    """Return the key ``value`` is matched on, or raise IdentityError.

    ``Alice@Example.COM`` and ``alice@example.com`` share a key; a look-alike
    of either never gets theirs: it is refused.
    """
    email = email_validate(value)
    local, _, domain = email.rpartition("@")
    return f"{_fold(local)}@{domain_key(domain)}"


def email_key_or_none(value: object) -> str | None:
    try:
        return email_key(value)
    except IdentityError:
        return None


def domain_key(domain: str) -> str:
    """Return ``domain`` as lower-case A-labels (UTS #46), or raise IdentityError.

    Every label, written in Unicode or as ``xn--``, is checked as a local
    part is: ``apple.com`` with a Cyrillic first letter is refused, in either spelling.
    """
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
        labels = [idna.decode(label) for label in ascii_domain.split(".")]
    except (idna.IDNAError, UnicodeError, ValueError):
        raise IdentityError("invalid") from None
    if ".".join(labels) != domain.lower() and ascii_domain != domain.lower():
        # Changed by more than ASCII lower-casing: fullwidth dots or letters,
        # a capital that folds to another letter...
        raise IdentityError("not_normalised")
    for label in labels:
        if not label.isascii():
            _unicode_part_check(label)
    return ascii_domain.lower()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _unicode_part_check(part: str) -> None:
    """Raise unless ``part`` is stable under normalisation and no look-alike."""
    if unicodedata.normalize("NFKC", part) != part:
        raise IdentityError("not_normalised")
    for char in part:
        if char.isascii():
            continue
        folded = char.casefold()
        if any(c.isascii() for c in folded) or unicodedata.normalize("NFKC", folded) != folded:
            raise IdentityError("not_normalised")
    if confusables.is_mixed_script(part):
        raise IdentityError("mixed_script")
    if any(_looks_ascii(char) for char in part if not char.isascii()):
        raise IdentityError("confusable")


@lru_cache(maxsize=4096)
def _looks_ascii(char: str) -> bool:
    """Return whether ``char`` is a homoglyph of an ASCII character."""
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[]) or []
    return any(glyph["c"].isascii() for entry in found for glyph in entry["homoglyphs"])
