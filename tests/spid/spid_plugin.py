"""spid-sp-test's authn plugin for this project's SPs (runs inside
``.venv-spid`` as part of spid-sp-test, not under Django).

spid-sp-test reads the response's Audience from the AuthnRequest Issuer's
``NameQualifier``, which SPID requires and the generic SAML2 profile does
not: this plugin gets the AuthnRequest as spid-sp-test would and copies the
Issuer (the SP's entity ID) there. It posts each response to the ACS in the
browser session that started the sign-in, following redirects as a browser.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from spid_sp_test.authn_request import get_authn_request
from spid_sp_test.plugins.authn_request import Base

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
TIMEOUT = 10


class GenericSaml2Sp(Base):  # type: ignore[misc]
    def request(self) -> dict[str, Any]:
        data: dict[str, Any] = get_authn_request(
            self.authn_request_url, requests_session=self.requests_session
        )
        root = etree.fromstring(data["SAMLRequest_xml"])
        issuer = root.find(f"{{{SAML_NS}}}Issuer")
        issuer.set("NameQualifier", (issuer.text or "").strip())
        data["SAMLRequest_xml"] = etree.tostring(root)
        return data

    def response(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.requests_session.post(
            url, data=data or {}, allow_redirects=True, timeout=TIMEOUT
        )
