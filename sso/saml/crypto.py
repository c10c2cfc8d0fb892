"""In-process XML signature verification for pysaml2, with python-xmlsec.

pysaml2's default backend spawns ``xmlsec1`` for every signature (23 ms, most
of it loading the CA bundle); its ``XMLSecurity`` backend expects the
pyXMLSecurity package (``xmlsec.parse_xml``/``xmlsec.verify``), not the
python-xmlsec bindings installed here, so it cannot be used. This backend
verifies with python-xmlsec (libxmlsec1 in-process) and keeps xmlsec1's
command-line guarantees: only same-document references, the key given (the
IdP's certificate from metadata, never a KeyInfo in the message), the ID
attribute registered on the one node pysaml2 asks about.
"""

from __future__ import annotations

from typing import Any

import lxml.etree
import saml2.entity
import xmlsec
from saml2.sigver import CryptoBackend, SecurityContext, SignatureError, security_context

from sso.saml.encryption import xml_decrypt
from sso.saml.xmlsafe import xml_parse

__all__ = ["InProcessCryptoBackend", "install", "security_context_build", "xml_parse"]

_DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


class InProcessCryptoBackend(CryptoBackend):  # type: ignore[misc]
    """Verify and decrypt with python-xmlsec; our own signatures are made
    in ``sso.saml.signing``."""

    @property
    def version(self) -> str:
        return str(getattr(xmlsec, "__version__", "python-xmlsec"))

    def validate_signature(
        self, signedtext: str | bytes, cert_file: str, cert_type: str, node_name: str, node_id: str
    ) -> bool:
        """Return True if the node ``node_id`` of type ``node_name`` is
        validly signed by ``cert_file``; raise SignatureError otherwise.
        """
        if cert_type != "pem":
            raise SignatureError("only PEM certificates")
        try:
            root = xml_parse(signedtext)
        except (ValueError, lxml.etree.XMLSyntaxError) as exc:
            raise SignatureError("unparsable document") from exc
        namespace, _, local = node_name.rpartition(":")
        # Two nodes with the ID being verified is the classic wrapping set-up;
        # refuse rather than guess which one pysaml2 will read.
        same_id = root.xpath("//*[@ID=$id]", id=node_id)
        if len(same_id) != 1 or same_id[0].tag != f"{{{namespace}}}{local}":
            raise SignatureError("signed node not found exactly once")
        node = same_id[0]
        signature = node.find(f"{{{_DSIG_NS}}}Signature")
        if signature is None:
            raise SignatureError("no enveloped signature")
        context = xmlsec.SignatureContext()
        context.register_id(node, "ID")
        context.key = xmlsec.Key.from_file(cert_file, xmlsec.constants.KeyDataFormatCertPem)
        try:
            context.verify(signature)
        except xmlsec.Error as exc:
            raise SignatureError("signature does not verify") from exc
        return True

    def decrypt(self, enctext: str | bytes, key_file: str) -> str:
        """Decrypt an encrypted assertion (``sso.saml.encryption``)."""
        return xml_decrypt(enctext, key_file=key_file)


def security_context_for(conf: Any) -> SecurityContext:
    """Return the security context of ``conf``: prebuilt, in-process, for
    our per-site configurations; pysaml2's own for any other.

    Installed as ``saml2.entity.security_context`` (the one name
    ``Entity.__init__`` calls) by ``SamlConfig.ready()``, because djangosaml2's
    ACS view builds its ``Saml2Client`` itself on every request.
    """
    prebuilt = getattr(conf, "sso_security_context", None)
    if prebuilt is not None:
        return prebuilt
    return security_context(conf)


def security_context_build(conf: Any) -> SecurityContext:
    """Return a security context for ``conf`` using the in-process backend."""
    return SecurityContext(
        InProcessCryptoBackend(),
        conf.key_file,
        cert_file=conf.cert_file,
        metadata=conf.metadata,
        only_use_keys_in_metadata=True,
        # Always the SP key: an encrypted assertion that does not decrypt
        # must reach our backend (and be refused), never pysaml2's silent
        # "no key" path that ends in a response without an assertion.
        enc_key_files=[conf.key_file],
        encryption_keypairs=conf.encryption_keypairs,
        validate_certificate=False,
        delete_tmpfiles=True,
    )


def install() -> None:
    """Route pysaml2's security-context creation through ours."""
    saml2.entity.security_context = security_context_for
