"""The assertion consumer service: from a posted SAMLResponse to a
verified, checked response, or SignInRefused.

Order: ``response_precheck`` (may only refuse: size, safe parsing, root,
version, algorithms, Destination, IssueInstant, InResponseTo bound to this
browser, site and audience; it returns the parsed document), then
``response_signatures_verify`` checks the schema and the signatures and
decrypts, with python-xmlsec on that same document (``sso.saml.verify``),
then ``authn_response_check`` checks the verified (decrypted) response and
assertion, and the answered request is forgotten (single use). pysaml2 is
not on this path: it builds the SP configuration (its metadata, keys and
attribute maps), AuthnRequests and logout messages.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import lxml.etree
from django.conf import settings as django_settings
from django.http import HttpRequest
from django.utils import timezone
from saml2.attribute_converter import to_local
from saml2.saml import SCM_BEARER, NameID, attribute_statement_from_string

from sso.saml.assertion_checks import (
    Expected,
    authn_response_check,
    saml,
    saml_all,
    saml_instant,
)
from sso.saml.checks import RESPONSE_MAX_BYTES, refusal_for, response_precheck
from sso.saml.config import CLOCK_LEEWAY, sp_config_get, sp_urls
from sso.saml.models import SamlSettings
from sso.saml.state import saml_request_consume, saml_requests_outstanding
from sso.saml.verify import Keys, encrypted_element_decrypt, keys_for, response_signatures_verify
from sso_site.signin.refusals import RefusalReason, SignInRefused

DEFAULT_MAX_AUTHN_AGE = 300
_SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
_IN_RESPONSE_TO = re.compile(rb"<(?:\w+:)?Response\b[^>]*?\sInResponseTo=\"([^\"]{1,200})\"")


@dataclass(frozen=True)
class VerifiedResponse:
    """What the ACS needs of a response that passed every check."""

    session_info: dict[str, Any]
    assertion_info: dict[str, Any]
    name_id: NameID | None
    session_index: str


def max_authn_age() -> dt.timedelta:
    """Return ``SSO_SAML_MAX_AUTHN_AGE`` (seconds; the leeway comes on top)."""
    seconds = getattr(django_settings, "SSO_SAML_MAX_AUTHN_AGE", DEFAULT_MAX_AUTHN_AGE)
    return dt.timedelta(seconds=int(seconds))


def saml_response_verify(
    request: HttpRequest, *, settings: SamlSettings, encoded: str, dry_run: bool = False
) -> VerifiedResponse:
    """Return the checked contents of ``encoded`` for ``settings``' SP, or
    raise SignInRefused (its detail names the failed check).

    ``dry_run`` (the troubleshooting console) changes only what is read and
    written, never a check: the answered request is the response's own
    InResponseTo (the browser that started it is not this one) and no
    request is consumed.
    """
    site, audience = settings.site, settings.audience
    urls = sp_urls(request, site=site, audience=audience)
    if dry_run:
        outstanding = dry_run_outstanding(encoded)
    else:
        outstanding = saml_requests_outstanding(request, site=site, audience=audience)
    prechecked = response_precheck(
        encoded,
        acs_url=urls["acs"],
        allow_sha1=settings.allow_sha1,
        allow_unsolicited=settings.allow_idp_initiated,
        outstanding=outstanding,
        now=timezone.now(),
        max_age=max_authn_age(),
    )
    try:
        conf = sp_config_get(request, settings=settings)
        keys = keys_for(conf, idp_entity_id=settings.idp_entity_id)
        signed = response_signatures_verify(
            prechecked.root,
            idp_entity_id=settings.idp_entity_id,
            keys=keys,
            allow_sha1=settings.allow_sha1,
        )
        authn_response_check(
            signed.root,
            signed.assertion,
            expected=Expected(
                acs_url=urls["acs"],
                sp_entity_id=urls["metadata"],
                idp_entity_id=settings.idp_entity_id,
                max_age=max_authn_age(),
                skew=dt.timedelta(seconds=CLOCK_LEEWAY),
                now=timezone.now(),
            ),
        )
        verified = _verified(signed.root, signed.assertion, conf=conf, keys=keys)
    except SignInRefused as exc:
        exc.detail.setdefault("assertion_id", prechecked.assertion_id)
        raise
    except Exception as exc:  # any library failure is a refusal
        # The exception's text may hold the whole message: only its type is kept.
        raise SignInRefused(
            refusal_for(exc),
            detail={
                "check": "verification",
                "error": type(exc).__name__,
                "assertion_id": prechecked.assertion_id,
            },
        ) from exc
    in_response_to = prechecked.root.get("InResponseTo")
    if in_response_to and not dry_run:
        saml_request_consume(request, site=site, audience=audience, request_id=in_response_to)
    return verified


def dry_run_outstanding(encoded: str) -> dict[str, str]:
    """Return the response's own InResponseTo as the one outstanding request."""
    try:
        match = _IN_RESPONSE_TO.search(base64.b64decode(encoded[:RESPONSE_MAX_BYTES]))
    except (ValueError, binascii.Error):
        return {}
    return {match.group(1).decode("ascii", "replace"): ""} if match else {}


def _verified(root: Any, assertion: Any, *, conf: Any, keys: Keys) -> VerifiedResponse:
    """Return what the sign-in reads of the verified ``assertion``, in the
    shape pysaml2's ``session_info()`` had (attribute names mapped by the
    SP configuration's attribute converters, as pysaml2 maps them).
    """
    ends = [
        data.get("NotOnOrAfter")
        for confirmation in saml_all(assertion, "Subject/SubjectConfirmation")
        if confirmation.get("Method") == SCM_BEARER
        for data in saml_all(confirmation, "SubjectConfirmationData")
        if data.get("NotOnOrAfter")
    ]
    statements = saml_all(assertion, "AuthnStatement")
    session_end = statements[0].get("SessionNotOnOrAfter") if statements else None
    conditions = saml(assertion, "Conditions")
    conditions_end = conditions.get("NotOnOrAfter") if conditions is not None else None
    name_id = _name_id(saml(assertion, "Subject"), keys)
    issuer = saml(root, "Issuer")
    return VerifiedResponse(
        session_info={
            "ava": _attributes(assertion, conf, keys),
            "name_id": name_id,
            "issuer": (issuer.text or "").strip() if issuer is not None else "",
            "not_on_or_after": _epoch(session_end) or _epoch(conditions_end),
            "authn_info": _authn_info(statements),
            "session_index": statements[0].get("SessionIndex") if statements else None,
        },
        assertion_info={
            "assertion_id": str(assertion.get("ID") or ""),
            "not_on_or_after": max(ends) if ends else None,
        },
        name_id=name_id,
        session_index=str(statements[0].get("SessionIndex") or "") if statements else "",
    )


def _epoch(value: str | None) -> int:
    return calendar.timegm(saml_instant(value).timetuple()) if value else 0


def _name_id(subject: Any, keys: Keys) -> NameID | None:
    if subject is None:
        return None
    node = saml(subject, "NameID")
    wrapper = saml(subject, "EncryptedID")
    if node is None and wrapper is not None:
        node = encrypted_element_decrypt(wrapper, keys=keys)
        if getattr(node, "tag", None) != f"{{{_SAML_NS}}}NameID":
            raise SignInRefused(RefusalReason.SAML_MALFORMED, detail={"check": "encrypted_id"})
    if node is None:
        return None
    return NameID(
        text=node.text,
        format=node.get("Format"),
        name_qualifier=node.get("NameQualifier"),
        sp_name_qualifier=node.get("SPNameQualifier"),
        sp_provided_id=node.get("SPProvidedID"),
    )


def _attributes(assertion: Any, conf: Any, keys: Keys) -> dict[str, list[Any]]:
    """Return the assertion's attributes by local name: each statement is
    handed to pysaml2's converters, small as it is (the whole response
    never goes through pysaml2).
    """
    ava: dict[str, list[Any]] = {}
    for statement in saml_all(assertion, "AttributeStatement"):
        for wrapper in saml_all(statement, "EncryptedAttribute"):
            attribute = encrypted_element_decrypt(wrapper, keys=keys)
            if getattr(attribute, "tag", None) != f"{{{_SAML_NS}}}Attribute":
                raise SignInRefused(
                    RefusalReason.SAML_MALFORMED, detail={"check": "encrypted_attribute"}
                )
            statement.replace(wrapper, attribute)
        parsed = attribute_statement_from_string(lxml.etree.tostring(statement))
        ava.update(to_local(conf.attribute_converters, parsed, conf.allow_unknown_attributes))
    return ava


def _authn_info(statements: list[Any]) -> list[tuple[str, list[str], str]]:
    info = []
    for statement in statements:
        context = saml(statement, "AuthnContext")
        if context is None:
            continue
        ref = saml(context, "AuthnContextClassRef")
        if ref is None or not ref.text:
            ref = saml(context, "AuthnContextDeclRef")
        authorities = [str(a.text) for a in saml_all(context, "AuthenticatingAuthority")]
        info.append(
            (
                str(ref.text or "") if ref is not None else "",
                authorities,
                statement.get("AuthnInstant", ""),
            )
        )
    return info
