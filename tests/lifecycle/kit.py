"""Helpers of the lifecycle tests: certificates with a chosen expiry, a real
SAML sign-in answered by a chosen signer.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import Client

from devidp.idp import DevIdp
from devidp.saml_kit import acs_post, sign_in_start
from sso.saml.config import sp_config_cache_clear
from tenants.models import Site


def certificate_pem(days: float) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expiring idp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=300))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def saml_sign_in(site: Site, idp: DevIdp, signer: DevIdp) -> Any:
    """Run a real SP-initiated sign-in answered by an assertion ``signer`` signs."""
    sp_config_cache_clear()
    client = Client()
    request_id = sign_in_start(client, site, idp)
    base = f"http://testserver/sso/{site.site_id}/agent/saml"
    sp_metadata = Client().get(f"{base}/metadata/").content.decode()
    server = signer.server([sp_metadata])
    xml = signer.authn_response(
        server,
        sp_entity_id=f"{base}/metadata/",
        acs_url=f"{base}/acs/",
        email="alice@a.example",
        in_response_to=request_id,
    )
    return acs_post(client, site, base64.b64encode(xml.encode()).decode())
