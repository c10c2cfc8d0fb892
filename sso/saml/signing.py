"""Signatures on SAML protocol messages, per call, with the key given.

pysaml2 signs Redirect-binding messages through ``SIGNER_ALGS``, one signer
object per algorithm shared by the whole process, whose ``key`` it sets
before each use: in a threaded server one site's request could be signed
with another site's key. Nothing here keeps a key anywhere but in the call.
"""

from __future__ import annotations

from typing import Any

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from saml2.xmldsig import SIG_RSA_SHA1, SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

SIG_ALG_DEFAULT = SIG_RSA_SHA256
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    SIG_RSA_SHA256: hashes.SHA256,
    SIG_RSA_SHA384: hashes.SHA384,
    SIG_RSA_SHA512: hashes.SHA512,
    SIG_RSA_SHA1: hashes.SHA1,
}
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_WEAK = frozenset(
    {
        SIG_RSA_SHA1,
        "http://www.w3.org/2000/09/xmldsig#sha1",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
        "http://www.w3.org/2001/04/xmldsig-more#md5",
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    }
)
_STRONG = frozenset(
    {
        SIG_RSA_SHA256,
        SIG_RSA_SHA384,
        SIG_RSA_SHA512,
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)


class SignatureCheckError(ValueError):
    """``why``: "unsigned", "weak" (an algorithm refused) or "bad"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def certificates_pem(bodies: list[str]) -> list[str]:
    """Return PEM certificates for the base64 bodies pysaml2's metadata gives."""
    pems = []
    for body in bodies:
        text = "".join(body.split())
        lines = [text[i : i + 64] for i in range(0, len(text), 64)]
        pems.append(
            "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
        )
    return pems


def query_sign(octets: bytes, *, key: rsa.RSAPrivateKey) -> bytes:
    """Return the RSA-SHA256 signature of a Redirect-binding query string."""
    return key.sign(octets, padding.PKCS1v15(), hashes.SHA256())


def query_verify(
    octets: bytes, signature: bytes, sig_alg: str, *, certificates: list[str], allow_sha1: bool
) -> None:
    """Check a Redirect-binding signature over ``octets`` against any of
    ``certificates`` (PEM); raise SignatureCheckError if it does not verify.
    """
    if not signature or not sig_alg:
        raise SignatureCheckError("unsigned")
    if sig_alg not in _HASHES or (sig_alg == SIG_RSA_SHA1 and not allow_sha1):
        raise SignatureCheckError("weak")
    for pem in certificates:
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, octets, padding.PKCS1v15(), _HASHES[sig_alg]())
        except InvalidSignature:
            continue
        return
    raise SignatureCheckError("bad")


def xml_verify(root: Any, *, certificates: list[str], allow_sha1: bool) -> None:
    """Check the enveloped signature of the message ``root`` (lxml):
    one Reference, to the root's own ID, which occurs once; only the
    enveloped and exclusive c14n transforms; strong algorithms; by one of
    ``certificates`` (PEM), never a key in the message. Raise SignatureCheckError.
    """
    signature = root.find(f"{{{_DSIG}}}Signature")
    if signature is None:
        raise SignatureCheckError("unsigned")
    node_id = root.get("ID") or ""
    references = signature.findall(f"{{{_DSIG}}}SignedInfo/{{{_DSIG}}}Reference")
    transforms = {
        node.get("Algorithm")
        for node in signature.iter(f"{{{_DSIG}}}Transform", f"{{{_DSIG}}}CanonicalizationMethod")
    }
    if (
        not node_id
        or len(references) != 1
        or references[0].get("URI") != f"#{node_id}"
        or len(root.xpath("//*[@ID=$id]", id=node_id)) != 1
        or not transforms <= {_ENVELOPED, _EXC_C14N}
    ):
        raise SignatureCheckError("bad")
    algorithms = {
        node.get("Algorithm", "")
        for node in signature.iter(f"{{{_DSIG}}}SignatureMethod", f"{{{_DSIG}}}DigestMethod")
    }
    allowed = _STRONG | (_WEAK if allow_sha1 else frozenset())
    if not algorithms <= allowed:
        raise SignatureCheckError("weak")
    for pem in certificates:
        context = xmlsec.SignatureContext()
        context.register_id(root, "ID")
        context.key = xmlsec.Key.from_memory(pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
        try:
            context.verify(signature)
        except xmlsec.Error:
            continue
        return
    raise SignatureCheckError("bad")


def xml_sign(root: Any, *, key_file: str, cert_file: str) -> None:
    """Sign the message ``root`` (lxml, changed in place) with the SP's key:
    an enveloped RSA-SHA256 signature after its Issuer, as the schema wants.
    """
    c = xmlsec.constants
    signature = xmlsec.template.create(root, c.TransformExclC14N, c.TransformRsaSha256)
    issuer = root.find(f"{{{_SAML}}}Issuer")
    root.insert(root.index(issuer) + 1 if issuer is not None else 0, signature)
    ref = xmlsec.template.add_reference(signature, c.TransformSha256, uri=f"#{root.get('ID')}")
    xmlsec.template.add_transform(ref, c.TransformEnveloped)
    xmlsec.template.add_transform(ref, c.TransformExclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    context = xmlsec.SignatureContext()
    context.register_id(root, "ID")
    context.key = xmlsec.Key.from_file(key_file, c.KeyDataFormatPem)
    context.key.load_cert_from_file(cert_file, c.KeyDataFormatPem)
    context.sign(signature)
