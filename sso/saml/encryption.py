"""Decryption of encrypted assertions, in-process with python-xmlsec.

Called by the ACS (``sso.saml.verify``) on the parsed response, so the
decrypted assertion goes through the signature check and every other check
exactly as a plain one does; pysaml2's backend (``sso.saml.crypto``) uses
the same code.

Only what Okta, Entra ID and ADFS offer and is sound: AES-GCM or AES-CBC for
the data, RSA-OAEP for the key transport. RSA PKCS#1 v1.5 key transport
(padding oracles) and 3DES are refused, as is any key named in the message
but ours.
"""

from __future__ import annotations

from typing import Any

import lxml.etree
import xmlsec

from sso.saml.xmlsafe import xml_parse

_XENC = "http://www.w3.org/2001/04/xmlenc#"
_XENC11 = "http://www.w3.org/2009/xmlenc11#"
DATA_ALGORITHMS = frozenset(
    {
        f"{_XENC}aes128-cbc",
        f"{_XENC}aes192-cbc",
        f"{_XENC}aes256-cbc",
        f"{_XENC11}aes128-gcm",
        f"{_XENC11}aes192-gcm",
        f"{_XENC11}aes256-gcm",
    }
)
KEY_TRANSPORT_ALGORITHMS = frozenset({f"{_XENC}rsa-oaep-mgf1p", f"{_XENC11}rsa-oaep"})


class AssertionDecryptError(ValueError):
    """The encrypted assertion does not decrypt, or uses a refused algorithm.

    Not an XmlsecError on purpose: pysaml2 swallows those (and its own
    DecryptError) and returns a response without any assertion, which
    djangosaml2 then turns into a 500; this one reaches djangosaml2's
    failure handling (``handle_acs_failure``), a refusal.
    """


def xml_decrypt(enctext: str | bytes, *, key_file: str) -> str:
    """Return ``enctext`` with its first EncryptedData replaced by what it
    decrypts to with the private key in ``key_file``; raise
    AssertionDecryptError if it does not decrypt or uses an algorithm not
    allowed above.
    """
    try:
        root = xml_parse(enctext)
    except (ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise AssertionDecryptError("unparsable document") from exc
    data = root.find(f".//{{{_XENC}}}EncryptedData")
    if data is None:
        raise AssertionDecryptError("nothing encrypted")
    key = xmlsec.Key.from_file(key_file, xmlsec.constants.KeyDataFormatPem)
    encrypted_data_decrypt(data, key=key)
    return str(lxml.etree.tostring(root, encoding="unicode"))


def encrypted_data_decrypt(data: Any, *, key: xmlsec.Key) -> Any:
    """Decrypt the xenc:EncryptedData element ``data`` in place with the
    private ``key``; return the element it decrypted to. Raise
    AssertionDecryptError if it does not decrypt or uses an algorithm not
    allowed above.
    """
    method = data.find(f"{{{_XENC}}}EncryptionMethod")
    keys = data.findall(f".//{{{_XENC}}}EncryptedKey/{{{_XENC}}}EncryptionMethod")
    if (
        method is None
        or method.get("Algorithm") not in DATA_ALGORITHMS
        or not keys
        or any(node.get("Algorithm") not in KEY_TRANSPORT_ALGORITHMS for node in keys)
    ):
        raise AssertionDecryptError("encryption algorithm not allowed")
    manager = xmlsec.KeysManager()
    manager.add_key(key)
    context = xmlsec.EncryptionContext(manager)
    try:
        return context.decrypt(data)
    except xmlsec.Error as exc:
        raise AssertionDecryptError("does not decrypt") from exc
