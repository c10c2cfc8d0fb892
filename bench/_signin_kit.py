"""Fresh, single-use sign-in artefacts for ``bench.signin_floor``: RS256
tokens and signed SAML Responses, made before each measured run.

SAML: the development IdP (``devidp``, pysaml2's server) writes one
unsigned Response per run; each copy gets its own Response and Assertion
IDs and is signed in-process (python-xmlsec: the Assertion, then the
Response around it), as an IdP signing both would. pysaml2 signing through
the ``xmlsec1`` program (about 25 ms a signature) would make thousands of
responses take minutes.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import lxml.etree
import xmlsec

_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


@dataclass(frozen=True)
class SamlTarget:
    """Where a Response goes: one SP (a site of the project, or the floor)."""

    path: str  # the ACS path posted to
    acs_url: str  # Destination and Recipient
    sp_entity_id: str  # Audience
    email: str  # NameID


def jwt_body(private_key: Any, email: str) -> str:
    """Return a form body ``jwt=<fresh RS256 token for email>``."""
    now = int(time.time())
    claims = {"iat": now, "exp": now + 240, "jti": uuid.uuid4().hex, "iss": "bench", "aud": "sso"}
    claims["email"] = email
    return "jwt=" + jwt.encode(claims, private_key, algorithm="RS256")


class SamlSigner:
    """Sign copies of a Response template with the IdP's key, in-process."""

    def __init__(self, key_file: str, cert_file: str) -> None:
        self.key = xmlsec.Key.from_file(key_file, xmlsec.constants.KeyDataFormatPem)
        self.key.load_cert_from_file(cert_file, xmlsec.constants.KeyDataFormatPem)

    def body(self, template: str, target: SamlTarget, placeholder: SamlTarget) -> str:
        """Return a form body ``SAMLResponse=...`` for ``target``: the
        ``template`` (written for ``placeholder``) with fresh IDs, signed.
        """
        xml = (
            template.replace(placeholder.acs_url, target.acs_url)
            .replace(placeholder.sp_entity_id, target.sp_entity_id)
            .replace(placeholder.email, target.email)
        )
        root = lxml.etree.fromstring(xml.encode())
        assertion = root.find(f"{{{_SAML}}}Assertion")
        root.set("ID", "_" + uuid.uuid4().hex)
        assertion.set("ID", "_" + uuid.uuid4().hex)
        self._sign(assertion)
        self._sign(root)
        encoded = base64.b64encode(lxml.etree.tostring(root)).decode()
        return "SAMLResponse=" + urllib.parse.quote(encoded, safe="")

    def _sign(self, node: Any) -> None:
        c = xmlsec.constants
        for old in node.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
            node.remove(old)
        signature = xmlsec.template.create(node, c.TransformExclC14N, c.TransformRsaSha256, ns="ds")
        # Schema order: the Signature follows the Issuer.
        node.find(f"{{{_SAML}}}Issuer").addnext(signature)
        reference = xmlsec.template.add_reference(
            signature, c.TransformSha256, uri="#" + node.get("ID")
        )
        xmlsec.template.add_transform(reference, c.TransformEnveloped)
        xmlsec.template.add_transform(reference, c.TransformExclC14N)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
        context = xmlsec.SignatureContext()
        context.register_id(node, "ID")
        context.key = self.key
        context.sign(signature)
