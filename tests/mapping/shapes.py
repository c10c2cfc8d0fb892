"""Identity data shaped exactly as the adapters hand it to sign_in()."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from saml2.attribute_converter import ac_factory, from_local, to_local
from saml2.saml import NAME_FORMAT_URI, Attribute, AttributeStatement, AttributeValue

from mapping.models import CustomVariable, FieldMapping
from sso_site.signin.identity import VerifiedIdentity
from tenants.models import Audience, Protocol, Site

SECRET = "x" * 32


def jwt_claims(**claims: Any) -> dict[str, Any]:
    """Return ``claims`` after a real HS256 round trip through PyJWT."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + 120, "jti": uuid.uuid4().hex, **claims}
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    decoded: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return decoded


def saml_ava(known: dict[str, list[str]], unknown: dict[str, list[str]] | None = None) -> Any:
    """Return pysaml2's ``ava`` for an attribute statement.

    ``known`` attributes are sent under their OID names, as IdPs do, and
    come back under friendly names; ``unknown`` ones keep their full name.
    """
    converters = ac_factory()
    attributes = from_local(converters, known, NAME_FORMAT_URI)
    for name, values in (unknown or {}).items():
        attributes.append(
            Attribute(
                name=name,
                name_format=NAME_FORMAT_URI,
                attribute_value=[AttributeValue(text=v) for v in values],
            )
        )
    statement = AttributeStatement(attribute=attributes)
    return to_local(converters, statement, allow_unknown_attributes=True)


def identity(
    site: Site, *, audience: Audience, protocol: Protocol, subject: str, claims: Any
) -> VerifiedIdentity:
    return VerifiedIdentity(
        site=site,
        audience=audience,
        protocol=protocol,
        subject=subject,
        claims=claims,
        reference=f"ref-{uuid.uuid4().hex[:8]}",
    )


def variable(site: Site, key: str, type_: str = "text", **kwargs: Any) -> CustomVariable:
    kwargs.setdefault("label", key.title())
    var = CustomVariable(site=site, key=key, type=type_, **kwargs)
    var.full_clean()
    var.save()
    return var


def mapping(site: Site, **kwargs: Any) -> FieldMapping:
    values: dict[str, Any] = {"audience": Audience.VISITOR, "protocol": Protocol.JWT}
    values.update(kwargs)
    if isinstance(values.get("variable"), CustomVariable):
        values["target"] = "custom"
    row = FieldMapping(site=site, **values)
    row.full_clean()
    row.save()
    return row
