"""Checks of fetched IdP metadata beyond what SAML settings validate:
the signature by a pinned metadata-signing certificate, ``validUntil``,
and the signing certificates' expiry dates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import lxml.etree
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.exceptions import ValidationError

from sso.saml.crypto import xml_parse
from sso.saml.metadata import certificate_check

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


@dataclass(frozen=True, slots=True)
class CertInfo:
    """A signing certificate by its SHA-256 fingerprint and expiry."""

    sha256: str
    not_after: dt.datetime

    def as_json(self) -> dict[str, str]:
        return {"sha256": self.sha256, "not_after": self.not_after.isoformat()}


def cert_info(pem_or_body: str) -> CertInfo:
    """Return the fingerprint and expiry of a PEM (or bare base64) certificate."""
    cert: x509.Certificate = certificate_check(pem_or_body)
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    return CertInfo(sha256=digest, not_after=cert.not_valid_after_utc)


def metadata_signature_check(xml: str, *, certificate: str) -> None:
    """Raise ValidationError unless ``xml``'s root is signed by ``certificate``.

    The signature must be the root's own enveloped signature and reference
    the root (by its ID, or the whole document), with only the enveloped
    and exclusive C14N transforms: a signature over some other element
    proves nothing about the metadata we read.
    """
    try:
        root = xml_parse(xml)
    except (ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise ValidationError("The metadata is not well-formed XML.") from exc
    signature = root.find(f"{{{DSIG_NS}}}Signature")
    if signature is None:
        raise ValidationError(
            "The metadata is not signed, but this site pins a signing certificate."
        )
    references = signature.findall(f"{{{DSIG_NS}}}SignedInfo/{{{DSIG_NS}}}Reference")
    root_id = root.get("ID", "")
    if len(references) != 1 or references[0].get("URI") not in {
        "",
        f"#{root_id}" if root_id else "",
    }:
        raise ValidationError("The metadata's signature does not cover the whole document.")
    transforms = {t.get("Algorithm") for t in references[0].iter(f"{{{DSIG_NS}}}Transform")}
    if not transforms <= {ENVELOPED, EXC_C14N}:
        raise ValidationError("The metadata's signature uses a transform that is not allowed.")
    context = xmlsec.SignatureContext()
    if root_id:
        context.register_id(root, "ID")
    try:
        context.key = xmlsec.Key.from_memory(
            _pem(certificate).encode(), xmlsec.constants.KeyDataFormatCertPem
        )
        context.verify(signature)
    except xmlsec.Error as exc:
        raise ValidationError(
            "The metadata's signature does not verify with the pinned certificate."
        ) from exc


def _pem(text: str) -> str:
    text = text.strip()
    if "-----BEGIN CERTIFICATE-----" in text:
        return text
    return f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----"


def metadata_valid_until(xml: str, *, now: dt.datetime) -> dt.datetime | None:
    """Return the root's ``validUntil``; raise ValidationError once it is past."""
    try:
        root = xml_parse(xml)
    except (ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise ValidationError("The metadata is not well-formed XML.") from exc
    value = root.get("validUntil")
    if not value:
        return None
    try:
        until = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError("The metadata's validUntil is not a date.") from exc
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.UTC)
    if until <= now:
        raise ValidationError("The metadata's validUntil has passed.")
    return until


MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def metadata_without_expired_certs(xml: str, *, now: dt.datetime) -> str:
    """Return ``xml`` without the signing certificates that have expired.

    A certificate is kept until the IdP stops publishing it or it expires;
    an expired one goes only while another one remains, so that an IdP
    that let its only certificate lapse is not cut off by us alone (the
    expiry warnings have told its operators by then).
    """
    root = xml_parse(xml)
    descriptors = root.findall(f".//{{{MD_NS}}}IDPSSODescriptor/{{{MD_NS}}}KeyDescriptor")
    expired = []
    signing = 0
    for descriptor in descriptors:
        if descriptor.get("use", "signing") != "signing":
            continue
        certificate = descriptor.find(f".//{{{DSIG_NS}}}X509Certificate")
        if certificate is None or not (certificate.text or "").strip():
            continue
        signing += 1
        if cert_info(certificate.text or "").not_after <= now:
            expired.append(descriptor)
    if not expired or len(expired) == signing:
        return xml
    for descriptor in expired:
        parent = descriptor.getparent()
        if parent is not None:
            parent.remove(descriptor)
    return str(lxml.etree.tostring(root, encoding="unicode"))
