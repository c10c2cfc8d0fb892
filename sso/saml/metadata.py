"""IdP metadata: validate pasted or fetched XML, build it from hand-entered
settings, and generate the SP's own key pair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
import lxml.etree
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.mdstore import InMemoryMetaData

from sso.saml.crypto import xml_parse
from sso_site.outbound import ANY_NETWORK, OutboundRefusedError, Problem, outbound_get

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
METADATA_MAX_BYTES = 512 * 1024
METADATA_TIMEOUT_SECONDS = 10.0
METADATA_MAX_REDIRECTS = 3
MIN_RSA_BITS = 2048
PEM_HEADER = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class IdpDescription:
    """What the SP needs to know of an IdP, read from valid metadata."""

    entity_id: str
    sso_urls: tuple[str, ...]
    certificates: tuple[str, ...]


def certificate_check(pem: str, *, label: str = "certificate") -> x509.Certificate:
    """Return the parsed PEM certificate, or raise ValidationError saying why."""
    text = pem.strip()
    if PEM_HEADER not in text:
        # Metadata carries the bare base64 body; accept it pasted that way too.
        text = f"{PEM_HEADER}\n{text}\n-----END CERTIFICATE-----"
    try:
        cert = x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        raise ValidationError(f"The {label} is not a valid PEM X.509 certificate.") from exc
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValidationError(
            f"The {label} has a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits needed."
        )
    return cert


def idp_metadata_parse(xml: str) -> IdpDescription:
    """Return the single IdP described by ``xml``, or raise ValidationError.

    The text is parsed with defusedxml first, so a DTD, an entity or an
    external reference is refused before pysaml2 reads it.
    """
    if len(xml.encode()) > METADATA_MAX_BYTES:
        raise ValidationError("The metadata is larger than 512 KB.")
    try:
        SafeET.fromstring(xml, forbid_dtd=True)
    except SafeET.ParseError as exc:
        raise ValidationError(f"The metadata is not well-formed XML: {exc}.") from exc
    except Exception as exc:  # defusedxml's DTD/entity refusals
        raise ValidationError(f"The metadata is refused: {type(exc).__name__}.") from exc
    store = InMemoryMetaData(None, None)
    try:
        store.parse(xml)
    except Exception as exc:
        raise ValidationError(f"The metadata is not valid SAML metadata: {exc}.") from exc
    idps = [
        entity_id for entity_id in list(store.keys()) if "idpsso_descriptor" in store[entity_id]
    ]
    if len(idps) != 1:
        raise ValidationError(f"The metadata must describe one identity provider, not {len(idps)}.")
    entity_id = idps[0]
    services = store.service(entity_id, "idpsso_descriptor", "single_sign_on_service") or {}
    sso = [*services.get(BINDING_HTTP_REDIRECT, []), *services.get(BINDING_HTTP_POST, [])]
    if not sso:
        raise ValidationError("The metadata names no SingleSignOnService (Redirect or POST).")
    certs = tuple(cert for _, cert in store.certs(entity_id, "idpsso", "signing"))
    if not certs:
        raise ValidationError("The metadata holds no signing certificate.")
    for number, cert in enumerate(certs, start=1):
        certificate_check(cert, label=f"metadata's signing certificate #{number}")
    return IdpDescription(
        entity_id=entity_id, sso_urls=tuple(s["location"] for s in sso), certificates=certs
    )


def idp_metadata_fetch(url: str) -> str:
    """Return the metadata at ``url``, or raise ValidationError.

    Through the outbound guard: operators type this URL and the server
    fetches it, so every hop (up to three redirects) must be a public
    address. ``SSO_SAML_METADATA_PRIVATE_HOSTS = True`` lifts the address
    check (development, tests).
    """
    allow_private = getattr(django_settings, "SSO_SAML_METADATA_PRIVATE_HOSTS", False)
    try:
        fetched = outbound_get(
            url,
            max_bytes=METADATA_MAX_BYTES,
            timeout=METADATA_TIMEOUT_SECONDS,
            schemes=("https", "http"),
            allow_networks=ANY_NETWORK if allow_private else (),
            max_redirects=METADATA_MAX_REDIRECTS,
        )
    except OutboundRefusedError as exc:
        if exc.problem == Problem.TOO_LARGE:
            raise ValidationError("The metadata is larger than 512 KB.") from exc
        if exc.problem == Problem.PRIVATE_ADDRESS:
            raise ValidationError(
                "The metadata URL's host is on a private or reserved network."
            ) from exc
        raise ValidationError(f"The metadata URL could not be fetched: {exc}.") from exc
    if fetched.status != 200:
        raise ValidationError(f"The metadata URL could not be fetched: HTTP {fetched.status}.")
    return fetched.body.decode("utf-8", errors="replace")


def _cert_body(pem: str) -> str:
    lines = [line for line in pem.strip().splitlines() if "-----" not in line]
    return "".join(line.strip() for line in lines)


def idp_metadata_build(
    *, entity_id: str, sso_url: str, sso_binding: str, slo_url: str, certificates: list[str]
) -> str:
    """Return IdP metadata XML for settings entered by hand."""
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{escape(_cert_body(cert))}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for cert in certificates
    )
    slo = (
        f"<md:SingleLogoutService Binding={quoteattr(BINDING_HTTP_REDIRECT)} "
        f"Location={quoteattr(slo_url)}/>"
        if slo_url
        else ""
    )
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={quoteattr(entity_id)}>'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}{slo}"
        f"<md:SingleSignOnService Binding={quoteattr(sso_binding)} Location={quoteattr(sso_url)}/>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def idp_metadata_with_certificate(xml: str, pem: str) -> str:
    """Return ``xml`` with ``pem`` as one more signing KeyDescriptor of its
    IdP (a second certificate during rotation), unless it is there already.
    """
    body = _cert_body(pem)
    if body in "".join(xml.split()):
        return xml
    root = xml_parse(xml)
    descriptor = next(root.iter(f"{{{_MD}}}IDPSSODescriptor"))
    key = lxml.etree.fromstring(
        f'<md:KeyDescriptor xmlns:md="{_MD}" xmlns:ds="{_DS}" use="signing"><ds:KeyInfo>'
        f"<ds:X509Data><ds:X509Certificate>{escape(body)}</ds:X509Certificate></ds:X509Data>"
        "</ds:KeyInfo></md:KeyDescriptor>"
    )
    # Schema order: Signature?, Extensions?, KeyDescriptor*, then the rest.
    before = [
        child
        for child in descriptor
        if child.tag in {f"{{{_DS}}}Signature", f"{{{_MD}}}Extensions", f"{{{_MD}}}KeyDescriptor"}
    ]
    descriptor.insert(descriptor.index(before[-1]) + 1 if before else 0, key)
    return str(lxml.etree.tostring(root, encoding="unicode"))


def sp_key_pair_generate(*, common_name: str) -> tuple[str, str]:
    """Return a new RSA-2048 private key and self-signed certificate, in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()
