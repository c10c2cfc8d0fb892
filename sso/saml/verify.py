"""The ACS's signature checks and decryption, in-process with python-xmlsec,
on the document ``checks.response_precheck`` parsed once (size-capped, no
DTD, no entities).

pysaml2's ``parse_authn_request_response`` did this before, at 12 ms a
response: it parses the message three times, validates it with a
pure-Python XML schema library (7 ms) and builds an object tree. Here the
same rules run on the lxml tree, in pysaml2's order, so that each failure
keeps its reason code:

- a signed Response: its Issuer is the site's IdP (else the key is
  missing: ``saml_wrong_issuer``), it is valid SAML (libxml2, the schema
  files pysaml2 ships: ``saml_schema_invalid``), its signature verifies;
- an EncryptedAssertion is decrypted with the SP key (AES-GCM/CBC,
  RSA-OAEP only: ``sso.saml.encryption``) in a copy of the document;
- the assertion: signed (``saml_unsigned``), issued by the site's IdP,
  valid SAML on its own, and its signature verifies;
- then the whole received message is valid SAML.

A signature verifies only if (SAML core 5.4, pysaml2's xmldsig rules): one
Reference, to the signed element's own ID, which occurs once in the
document (signature wrapping), exclusive c14n, only the enveloped and
exclusive c14n transforms, no ds:Object, no SHA-1/MD5 unless the site
allows it, and the key is one of the site's IdP signing certificates from
its metadata, never a KeyInfo in the message.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import xmlsec

from sso.checktrace import check_passed
from sso.saml.checks import weak_algorithms_refuse
from sso.saml.encryption import AssertionDecryptError, encrypted_data_decrypt
from sso.saml.schema import schema_error
from sso.saml.signing import certificates_pem
from sso_site.signin.refusals import RefusalReason, SignInRefused

R = RefusalReason
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_XENC = "http://www.w3.org/2001/04/xmlenc#"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_CANONICALIZATIONS = frozenset({_EXC_C14N, _EXC_C14N_COMMENTS})
_TRANSFORMS = frozenset({_ENVELOPED, _EXC_C14N, _EXC_C14N_COMMENTS})


@dataclass(frozen=True)
class SignedResponse:
    """A response whose signatures verified: the document the content
    checks read (decrypted, where the assertion was encrypted) and its one
    assertion.
    """

    root: Any
    assertion: Any


@dataclass(frozen=True)
class Keys:
    """The keys of one SP configuration: the IdP's signing certificates
    (from its metadata) and, where assertions may be encrypted, the SP's
    private key.
    """

    idp_signing: tuple[xmlsec.Key, ...]
    sp_decryption: xmlsec.Key | None


def keys_for(conf: Any, *, idp_entity_id: str) -> Keys:
    """Return the keys of the cached SP configuration ``conf``, loaded once
    per configuration (a new one is built whenever the settings change).
    """
    keys: Keys | None = getattr(conf, "sso_acs_keys", None)
    if keys is None:
        try:
            bodies = [cert for _, cert in conf.metadata.certs(idp_entity_id, "any", "signing")]
        except KeyError:
            bodies = []
        pem = xmlsec.constants.KeyDataFormatCertPem
        keys = Keys(
            idp_signing=tuple(
                xmlsec.Key.from_memory(cert.encode(), pem) for cert in certificates_pem(bodies)
            ),
            sp_decryption=xmlsec.Key.from_file(conf.key_file, xmlsec.constants.KeyDataFormatPem)
            if conf.key_file
            else None,
        )
        conf.sso_acs_keys = keys
    return keys


def response_signatures_verify(
    root: Any, *, idp_entity_id: str, keys: Keys, allow_sha1: bool
) -> SignedResponse:
    """Verify the signatures of the precheck'd Response ``root`` (and
    decrypt its assertion); return what the content checks read, or raise
    SignInRefused.
    """
    whole_checked = False
    if root.find(f"{{{_DSIG}}}Signature") is not None:
        _signed_element_check(
            root, document=root, idp_entity_id=idp_entity_id, keys=keys, allow_sha1=allow_sha1
        )
        whole_checked = True
    encrypted = root.find(f"{{{_SAML}}}EncryptedAssertion")
    if encrypted is None:
        document, assertion = root, root.find(f"{{{_SAML}}}Assertion")
    else:
        # Decrypted in a copy: the message as received is validated below.
        document = copy.deepcopy(root)
        assertion = _assertion_decrypt(document.find(f"{{{_SAML}}}EncryptedAssertion"), keys=keys)
    if assertion.find(f"{{{_DSIG}}}Signature") is None:
        raise SignInRefused(R.SAML_UNSIGNED, detail={"check": "assertion_signature"})
    _signed_element_check(
        assertion,
        document=document,
        idp_entity_id=idp_entity_id,
        keys=keys,
        allow_sha1=allow_sha1,
        # The assertion as received was validated with the whole Response
        # it is part of (the same element declaration); a decrypted one was
        # not.
        schema_checked=whole_checked and encrypted is None,
    )
    check_passed("signature", signed_by=idp_entity_id)
    if not whole_checked:
        _schema_check(root, "response")
    return SignedResponse(root=document, assertion=assertion)


def encrypted_element_decrypt(wrapper: Any, *, keys: Keys) -> Any:
    """Return the element an xenc-wrapped element (EncryptedAssertion,
    EncryptedID, EncryptedAttribute) decrypts to, in place, or raise
    SignInRefused.
    """
    data = wrapper.find(f"{{{_XENC}}}EncryptedData")
    try:
        if data is None or keys.sp_decryption is None:
            raise AssertionDecryptError("nothing to decrypt with")
        return encrypted_data_decrypt(data, key=keys.sp_decryption)
    except AssertionDecryptError as exc:
        raise SignInRefused(
            R.SAML_MALFORMED, detail={"check": "decryption", "why": str(exc)}
        ) from exc


def _assertion_decrypt(wrapper: Any, *, keys: Keys) -> Any:
    assertion = encrypted_element_decrypt(wrapper, keys=keys)
    if getattr(assertion, "tag", None) != f"{{{_SAML}}}Assertion":
        raise SignInRefused(R.SAML_MALFORMED, detail={"check": "decryption", "why": "no assertion"})
    check_passed("decryption")
    return assertion


def _schema_check(element: Any, what: str) -> None:
    error = schema_error(element)
    if error is not None:
        raise SignInRefused(
            R.SAML_SCHEMA_INVALID, detail={"check": "schema", "element": what, "error": error}
        )


def _signed_element_check(
    node: Any,
    *,
    document: Any,
    idp_entity_id: str,
    keys: Keys,
    allow_sha1: bool,
    schema_checked: bool = False,
) -> None:
    what = "response" if node is document else "assertion"
    issuer = node.find(f"{{{_SAML}}}Issuer")
    if issuer is None or (issuer.text or "").strip() != idp_entity_id or not keys.idp_signing:
        # No key for this issuer in the site's IdP metadata.
        raise SignInRefused(R.SAML_WRONG_ISSUER, detail={"check": f"{what}_issuer"})
    if not schema_checked:
        _schema_check(node, what)
    signature = node.find(f"{{{_DSIG}}}Signature")
    problem = _xmldsig_problem(node, signature, document)
    if problem:
        raise SignInRefused(
            R.SAML_BAD_SIGNATURE, detail={"check": f"{what}_signature", "why": problem}
        )
    weak_algorithms_refuse(signature, allow_sha1=allow_sha1)
    for key in keys.idp_signing:
        context = xmlsec.SignatureContext()
        context.register_id(node, "ID")
        context.key = key
        try:
            context.verify(signature)
        except xmlsec.Error:
            continue
        return
    raise SignInRefused(
        R.SAML_BAD_SIGNATURE, detail={"check": f"{what}_signature", "why": "does not verify"}
    )


def _xmldsig_problem(node: Any, signature: Any, document: Any) -> str:
    """Return which rule of SAML core 5.4 the enveloped ``signature`` of
    ``node`` breaks, or "".
    """
    node_id = node.get("ID") or ""
    info = signature.find(f"{{{_DSIG}}}SignedInfo")
    references = info.findall(f"{{{_DSIG}}}Reference") if info is not None else []
    if not node_id or len(references) != 1 or references[0].get("URI") != f"#{node_id}":
        return "reference"
    if len(document.xpath("//*[@ID=$id]", id=node_id)) != 1:
        return "wrapping"  # the signed ID twice: which one would be read?
    method = info.find(f"{{{_DSIG}}}CanonicalizationMethod")
    if method is None or method.get("Algorithm") not in _CANONICALIZATIONS:
        return "canonicalization"
    transforms = [
        t.get("Algorithm")
        for t in references[0].iterfind(f"{{{_DSIG}}}Transforms/{{{_DSIG}}}Transform")
    ]
    if not 1 <= len(transforms) <= 2 or not set(transforms) <= _TRANSFORMS:
        return "transforms"
    if _ENVELOPED not in transforms:
        return "transforms"
    if signature.find(f"{{{_DSIG}}}Object") is not None:
        return "object"
    return ""
