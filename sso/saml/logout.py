"""Single logout messages: read and check what the IdP sends to the SLS,
and build what we send back, on pysaml2's public API.

Every message to the SLS (SAML Profiles 4.4, SAML Bindings 3.4.4.1/3.5.5.2)
must be a LogoutRequest or LogoutResponse of version 2.0, issued by the
site's IdP, signed by a key from its metadata (Redirect binding: the query
string signature; POST: an enveloped signature), sent to this SLS, and
recent. Each failed check refuses with its own reason code.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

import lxml.etree
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.pack import http_form_post_message
from saml2.saml import NAMEID_FORMAT_ENTITY, NameID
from saml2.samlp import logout_request_from_string
from saml2.time_util import str_to_time

from sso.saml.bindings import BindingError, message_read, redirect_url_build
from sso.saml.config import CLOCK_LEEWAY
from sso.saml.crypto import xml_parse
from sso.saml.models import SamlSettings
from sso.saml.signing import (
    SignatureCheckError,
    certificates_pem,
    query_verify,
    xml_sign,
    xml_verify,
)
from sso_site.signin.refusals import RefusalReason, SignInRefused

MESSAGE_MAX_AGE = dt.timedelta(minutes=5)
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_ROOTS = {"SAMLRequest": "LogoutRequest", "SAMLResponse": "LogoutResponse"}
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


@dataclass(frozen=True, slots=True)
class LogoutMessage:
    """A checked logout message: who sent it is the site's IdP."""

    is_request: bool
    id: str
    in_response_to: str
    name_id: NameID | None
    session_indexes: tuple[str, ...]
    status: str
    relay_state: str
    xml: bytes


def logout_message_check(
    request: HttpRequest, *, settings: SamlSettings, conf: SPConfig, sls_url: str
) -> LogoutMessage:
    """Return the checked logout message of ``request``, or raise SignInRefused."""
    try:
        message = message_read(request)
        root = xml_parse(message.xml)
    except BindingError as exc:
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why=exc.why) from exc
    except (ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why="not XML") from exc
    if root.tag != f"{{{_SAMLP}}}{_ROOTS[message.param]}" or root.get("Version") != "2.0":
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why="not a logout message")
    if root.xpath("//comment() | //processing-instruction()"):
        # Never let a comment split a value that is compared (NameID).
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why="comment")
    issuer = root.find(f"{{{_SAML}}}Issuer")
    if (
        issuer is None
        or (issuer.text or "").strip() != settings.idp_entity_id
        or issuer.get("Format", NAMEID_FORMAT_ENTITY) != NAMEID_FORMAT_ENTITY
    ):
        raise _refused(RefusalReason.SAML_LOGOUT_WRONG_ISSUER, settings)
    certs = certificates_pem(
        [cert for _, cert in conf.metadata.certs(settings.idp_entity_id, "idpsso", "signing")]
    )
    try:
        if message.redirect:
            query_verify(
                message.signed_query,
                message.signature,
                message.sig_alg,
                certificates=certs,
                allow_sha1=settings.allow_sha1,
            )
        else:
            xml_verify(root, certificates=certs, allow_sha1=settings.allow_sha1)
    except SignatureCheckError as exc:
        reason = {
            "unsigned": RefusalReason.SAML_LOGOUT_UNSIGNED,
            "weak": RefusalReason.SAML_WEAK_ALGORITHM,
        }.get(exc.why, RefusalReason.SAML_LOGOUT_BAD_SIGNATURE)
        raise _refused(reason, settings) from exc
    if root.get("Destination") != sls_url:
        raise _refused(RefusalReason.SAML_WRONG_RECIPIENT, settings)
    _time_check(root, settings)
    if not root.get("ID"):
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why="no ID")
    return _message(root, message.param == "SAMLRequest", message.relay_state, message.xml)


def _time_check(root: Any, settings: SamlSettings) -> None:
    now = dt.datetime.now(dt.UTC)
    leeway = dt.timedelta(seconds=CLOCK_LEEWAY)
    try:
        issued = _instant(root.get("IssueInstant") or "")
        ends = _instant(root.get("NotOnOrAfter")) if root.get("NotOnOrAfter") else None
    except ValueError as exc:
        raise _refused(RefusalReason.SAML_MALFORMED, settings, why="instant") from exc
    if issued > now + leeway:
        raise _refused(RefusalReason.SAML_NOT_YET_VALID, settings)
    if issued < now - MESSAGE_MAX_AGE - leeway or (ends is not None and ends <= now - leeway):
        raise _refused(RefusalReason.SAML_EXPIRED, settings)


def _instant(value: str) -> dt.datetime:
    """Return the UTC ``xs:dateTime`` ``value`` (SAML Core 1.3.3: "Z" form
    only); raise ValueError for anything else, an empty value included.
    """
    try:
        parsed = str_to_time(value) if value else None
        seconds = calendar.timegm(parsed) if parsed else None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError("not a SAML instant") from exc
    if seconds is None:
        raise ValueError("not a SAML instant")
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _message(root: Any, is_request: bool, relay_state: str, xml: bytes) -> LogoutMessage:
    name_id = None
    node = root.find(f"{{{_SAML}}}NameID")
    if node is not None:
        name_id = NameID(
            text=(node.text or "").strip(),
            format=node.get("Format"),
            name_qualifier=node.get("NameQualifier"),
            sp_name_qualifier=node.get("SPNameQualifier"),
        )
    status = root.find(f"{{{_SAMLP}}}Status/{{{_SAMLP}}}StatusCode")
    return LogoutMessage(
        is_request=is_request,
        id=root.get("ID"),
        in_response_to=root.get("InResponseTo") or "",
        name_id=name_id,
        session_indexes=tuple(
            (n.text or "").strip() for n in root.findall(f"{{{_SAMLP}}}SessionIndex")
        ),
        status=status.get("Value", "") if status is not None else "",
        relay_state=relay_state,
        xml=xml,
    )


def name_id_matches(remembered: NameID | None, named: NameID | None) -> bool:
    """Return True if the LogoutRequest's NameID is the signed-in subject's."""
    if remembered is None or named is None or not named.text:
        return False
    if (remembered.text or "") != named.text:
        return False
    return all(
        getattr(named, attr) in (None, "", getattr(remembered, attr))
        for attr in ("format", "name_qualifier", "sp_name_qualifier")
    )


def logout_request_send(
    *, conf: SPConfig, settings: SamlSettings, name_id: NameID, session_index: str
) -> tuple[str, HttpResponse] | None:
    """Return (ID, response sending a signed LogoutRequest to the IdP), or
    None when the IdP has no SingleLogoutService we can use.
    """
    endpoint = _idp_slo(conf, settings)
    if endpoint is None:
        return None
    binding, location = endpoint
    client = Saml2Client(conf)
    request_id, message = client.create_logout_request(
        location,
        settings.idp_entity_id,
        name_id=name_id,
        expire=_soon(),
        session_indexes=[session_index] if session_index else None,
        sign=False,
    )
    return str(request_id), _send(conf, binding, location, "SAMLRequest", str(message))


def logout_response_send(
    *, conf: SPConfig, settings: SamlSettings, message: LogoutMessage
) -> HttpResponse | None:
    """Return the response sending our signed LogoutResponse to the IdP."""
    endpoint = _idp_slo(conf, settings, response=True)
    if endpoint is None:
        return None
    binding, location = endpoint
    client = Saml2Client(conf)
    parsed = logout_request_from_string(message.xml.decode())
    response = client.create_logout_response(parsed, [binding], sign=False)
    response.destination = location
    return _send(conf, binding, location, "SAMLResponse", str(response), message.relay_state)


def _idp_slo(
    conf: SPConfig, settings: SamlSettings, *, response: bool = False
) -> tuple[str, str] | None:
    return idp_endpoint(
        conf,
        settings,
        "single_logout_service",
        (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST),
        response=response,
    )


def idp_endpoint(
    conf: SPConfig,
    settings: SamlSettings,
    service: str,
    bindings: tuple[str, ...],
    *,
    response: bool = False,
) -> tuple[str, str] | None:
    """Return (binding, location) of the IdP's ``service`` for the first of
    ``bindings`` its metadata offers (for a ``response``, its
    ResponseLocation where it has one), or None (quietly: pysaml2's own
    lookup logs an ERROR and raises for a binding the IdP does not offer).
    """
    for binding in bindings:
        for source in conf.metadata.metadata.values():
            found = source.service(settings.idp_entity_id, "idpsso_descriptor", service, binding)
            if found:
                where = (response and found[0].get("response_location")) or found[0]["location"]
                return binding, str(where)
    return None


def _send(
    conf: SPConfig, binding: str, location: str, param: str, xml: str, relay_state: str = ""
) -> HttpResponse:
    if binding == BINDING_HTTP_REDIRECT:
        return HttpResponseRedirect(
            redirect_url_build(
                location, param=param, xml=xml, relay_state=relay_state, key=conf.sso_signing_key
            )
        )
    root = xml_parse(xml)
    xml_sign(root, key_file=conf.key_file, cert_file=conf.cert_file)
    signed = lxml.etree.tostring(root).decode()
    info = http_form_post_message(signed, location, relay_state, typ=param)
    return HttpResponse(info["data"])


def _soon() -> str:
    return (dt.datetime.now(dt.UTC) + MESSAGE_MAX_AGE).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refused(reason: RefusalReason, settings: SamlSettings, *, why: str = "") -> SignInRefused:
    return SignInRefused(
        reason,
        site=settings.site,
        audience=settings.audience,  # type: ignore[arg-type]
        detail={"slo": True, **({"why": why} if why else {})},
    )
