"""A small SAML identity provider on pysaml2's server side.

Used by the demo (``/dev-idp/``) and by the tests: it issues real responses,
with assertions signed by its own key, for whatever SP metadata it is given.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import lxml.etree
import xmlsec
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

MFA_CONTEXT = "http://schemas.microsoft.com/claims/multipleauthn"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105


@dataclass(frozen=True)
class DevIdp:
    """An IdP identity: entity ID, endpoints and the key pair it signs with."""

    entity_id: str
    sso_url: str
    slo_url: str
    key_file: str
    cert_file: str

    def config(self, sp_metadata: list[str], *, require_signed_requests: bool = False) -> IdPConfig:
        conf = IdPConfig()
        conf.load(
            {
                "entityid": self.entity_id,
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "metadata": {"inline": sp_metadata},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.sso_url, BINDING_HTTP_REDIRECT),
                                (self.sso_url, BINDING_HTTP_POST),
                            ],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                        # As enterprise IdPs can: refuse AuthnRequests not
                        # signed by a key in the SP's metadata.
                        "want_authn_requests_signed": require_signed_requests,
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "entity_categories": [],
                            }
                        },
                    }
                },
            }
        )
        return conf

    def server(self, sp_metadata: list[str], *, require_signed_requests: bool = False) -> Server:
        return Server(
            config=self.config(sp_metadata, require_signed_requests=require_signed_requests)
        )

    def metadata_xml(self) -> str:
        return str(entity_descriptor(self.config([])))

    def authn_response(
        self,
        server: Server,
        *,
        sp_entity_id: str,
        acs_url: str,
        email: str,
        in_response_to: str | None,
        authn_context: str = MFA_CONTEXT,
        attributes: dict[str, Any] | None = None,
        sign_assertion: bool = True,
    ) -> str:
        """Return the XML of a Response with one assertion about ``email``."""
        response = server.create_authn_response(
            identity=attributes if attributes is not None else {"mail": [email]},
            in_response_to=in_response_to,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": authn_context, "authn_auth": self.entity_id},
            sign_assertion=sign_assertion,
            sign_response=False,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(response)


def assertion_encrypt(
    xml: str, *, sp_certificate: str, data_algorithm: Any = None, key_algorithm: Any = None
) -> str:
    """Return the Response ``xml`` with its (signed) Assertion encrypted to
    ``sp_certificate`` (PEM): AES-256-GCM by default, the key by RSA-OAEP,
    in a saml:EncryptedAssertion, as Okta, Entra ID or ADFS send it.
    """
    c = xmlsec.constants
    root = lxml.etree.fromstring(xml.encode())
    # The encrypted Assertion carries its own namespace declarations, as
    # IdPs send it: the plaintext must parse on its own.
    inner = root.find(f"{{{SAML_NS}}}Assertion")
    standalone = lxml.etree.Element(
        inner.tag, attrib=dict(inner.attrib), nsmap={**root.nsmap, **inner.nsmap}
    )
    standalone.extend(list(inner))
    plaintext = lxml.etree.tostring(standalone)
    wrapper = lxml.etree.Element(f"{{{SAML_NS}}}EncryptedAssertion")
    root.replace(inner, wrapper)
    template = xmlsec.template.encrypted_data_create(
        wrapper, data_algorithm or c.TransformAes256Gcm, type=c.TypeEncElement, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, key_algorithm or c.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(sp_certificate.encode(), c.KeyDataFormatCertPem))
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(c.KeyDataAes, 256, c.KeyDataTypeSession)
    wrapper.append(context.encrypt_binary(template, plaintext))
    return str(lxml.etree.tostring(root, encoding="unicode"))
