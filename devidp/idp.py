"""A small SAML identity provider on pysaml2's server side.

Used by the demo (``/dev-idp/``) and by the tests: it issues real responses,
with assertions signed by its own key, for whatever SP metadata it is given.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

MFA_CONTEXT = "http://schemas.microsoft.com/claims/multipleauthn"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105


@dataclass(frozen=True)
class DevIdp:
    """An IdP identity: entity ID, endpoints and the key pair it signs with."""

    entity_id: str
    sso_url: str
    slo_url: str
    key_file: str
    cert_file: str

    def config(self, sp_metadata: list[str]) -> IdPConfig:
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

    def server(self, sp_metadata: list[str]) -> Server:
        return Server(config=self.config(sp_metadata))

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
