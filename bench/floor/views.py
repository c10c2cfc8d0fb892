"""The floor's sign-in views: the same cryptography as the project, the
checks a careful hand-written SP makes, one replay INSERT, Django's
``login()``. Keys are loaded once per process, as a fast SP would.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import lxml.etree
import xmlsec
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

MAX_BYTES = 256 * 1024
LEEWAY = dt.timedelta(seconds=60)
_DS = "http://www.w3.org/2000/09/xmldsig#"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_PARSER = lxml.etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
_BACKEND = "django.contrib.auth.backends.ModelBackend"


class RefusedError(Exception):
    """A check failed; the text names it."""


@cache
def _jwt_key() -> Any:
    return serialization.load_pem_public_key(Path(settings.FLOOR_JWT_KEY).read_bytes())


@cache
def _idp_key() -> Any:
    return xmlsec.Key.from_file(settings.FLOOR_IDP_CERT, xmlsec.constants.KeyDataFormatCertPem)


def _replay_insert(key: str, expires: dt.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor_replay (key, expires_at) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING",
            [key, expires],
        )
        if cursor.rowcount != 1:
            raise RefusedError("replay")


def _signed_in(request: HttpRequest, email: str) -> HttpResponse:
    user = get_user_model().objects.filter(username=email).first()
    if user is None or not user.is_active:
        raise RefusedError("unknown user")
    login(request, user, backend=_BACKEND)
    return HttpResponseRedirect("/console/")


def _refusal(exc: Exception) -> HttpResponse:
    return HttpResponse(f"refused: {exc}\n", status=403, content_type="text/plain")


def jwt_signin(request: HttpRequest) -> HttpResponse:
    """Sign in with an RS256 token posted as ``jwt``."""
    try:
        claims = jwt.decode(
            request.POST.get("jwt", ""),
            _jwt_key(),
            algorithms=["RS256"],
            audience="sso",
            issuer="bench",
            options={"require": ["exp", "iat", "jti"]},
        )
        if claims["exp"] - claims["iat"] > 600:
            raise RefusedError("lifetime")
        expires = dt.datetime.fromtimestamp(claims["exp"], tz=dt.UTC)
        _replay_insert(f"jwt:{claims['jti']}", expires)
        return _signed_in(request, str(claims.get("email", "")))
    except (jwt.PyJWTError, RefusedError, KeyError, TypeError) as exc:
        return _refusal(exc)


def saml_signin(request: HttpRequest) -> HttpResponse:
    """Sign in with a SAMLResponse (HTTP-POST binding) whose Response and
    Assertion are both signed by the IdP.
    """
    encoded = request.POST.get("SAMLResponse", "")
    try:
        if len(encoded) > MAX_BYTES:
            raise RefusedError("too large")
        root = lxml.etree.fromstring(base64.b64decode(encoded, validate=True), parser=_PARSER)
        if root.getroottree().docinfo.doctype:
            raise RefusedError("doctype")
        assertion, expires = _saml_check(root, now=dt.datetime.now(tz=dt.UTC))
        _replay_insert(f"saml:{assertion.get('ID')}", expires)
        return _signed_in(request, _text(assertion, "saml:Subject/saml:NameID"))
    except (RefusedError, ValueError, binascii.Error, lxml.etree.XMLSyntaxError) as exc:
        return _refusal(exc)


def _saml_check(root: Any, *, now: dt.datetime) -> tuple[Any, dt.datetime]:
    """Return the verified Assertion and its last acceptable moment."""
    if root.tag != f"{{{_SAMLP}}}Response" or root.get("Version") != "2.0":
        raise RefusedError("not a SAML 2.0 Response")
    if root.get("Destination") != settings.FLOOR_ACS_URL:
        raise RefusedError("Destination")
    ids = root.xpath("//@ID")
    if len(ids) != len(set(ids)):
        raise RefusedError("duplicate ID")
    assertions = root.findall(f"{{{_SAML}}}Assertion")
    if len(assertions) != 1:
        raise RefusedError("not exactly one Assertion")
    assertion = assertions[0]
    _verify(root)
    _verify(assertion)
    ns = {"saml": _SAML, "samlp": _SAMLP}
    status = root.find("samlp:Status/samlp:StatusCode", ns)
    if status is None or status.get("Value") != _SUCCESS:
        raise RefusedError("Status")
    idp = settings.FLOOR_IDP_ENTITY_ID
    if _text(assertion, "saml:Issuer") != idp or _text(root, "saml:Issuer") not in ("", idp):
        raise RefusedError("Issuer")
    conditions = assertion.find("saml:Conditions", ns)
    if conditions is None:
        raise RefusedError("no Conditions")
    if now + LEEWAY < _instant(conditions.get("NotBefore"), default=now):
        raise RefusedError("NotBefore")
    if now - LEEWAY >= _instant(conditions.get("NotOnOrAfter"), default=now):
        raise RefusedError("NotOnOrAfter")
    audiences = conditions.xpath("saml:AudienceRestriction/saml:Audience/text()", namespaces=ns)
    if settings.FLOOR_SP_ENTITY_ID not in audiences:
        raise RefusedError("Audience")
    expires = None
    for confirmation in assertion.findall("saml:Subject/saml:SubjectConfirmation", ns):
        data = confirmation.find("saml:SubjectConfirmationData", ns)
        if confirmation.get("Method") != _BEARER or data is None:
            continue
        end = _instant(data.get("NotOnOrAfter"), default=now)
        if data.get("Recipient") == settings.FLOOR_ACS_URL and now - LEEWAY < end:
            expires = end
    if expires is None:
        raise RefusedError("no bearer SubjectConfirmation for this ACS")
    issued = _instant(assertion.get("IssueInstant"), default=dt.datetime.min.replace(tzinfo=dt.UTC))
    if abs(now - issued) > dt.timedelta(minutes=5) + LEEWAY:
        raise RefusedError("IssueInstant")
    return assertion, expires


def _verify(node: Any) -> None:
    """Verify the enveloped signature of ``node`` with the IdP's key."""
    signature = node.find(f"{{{_DS}}}Signature")
    if signature is None:
        raise RefusedError("unsigned")
    references = signature.findall(f"{{{_DS}}}SignedInfo/{{{_DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "#" + node.get("ID", ""):
        raise RefusedError("the signature does not cover this element")
    method = signature.find(f"{{{_DS}}}SignedInfo/{{{_DS}}}SignatureMethod")
    if method is None or method.get("Algorithm") != _RSA_SHA256:
        raise RefusedError("signature algorithm")
    context = xmlsec.SignatureContext()
    context.register_id(node, "ID")
    context.key = _idp_key()
    try:
        context.verify(signature)
    except xmlsec.Error as exc:
        raise RefusedError("bad signature") from exc


def _text(node: Any, path: str) -> str:
    found = node.find(path, {"saml": _SAML})
    return (found.text or "").strip() if found is not None else ""


def _instant(value: str | None, *, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
