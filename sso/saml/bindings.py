"""SAML bindings at the edge: read a message from a request with every size
bounded, and build outgoing Redirect/POST messages.

pysaml2's ``decode_base64_and_inflate`` inflates without limit (a 266 KB
deflate bomb grew to 430 MiB); nothing here hands pysaml2 an encoded message:
it gets XML that was decoded, inflated and size-checked by ``message_read``.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import RawPostDataException

from sso.saml.signing import SIG_ALG_DEFAULT, query_sign

# An encoded message (base64, maybe deflated) and the XML it becomes.
ENCODED_MAX_BYTES = 256 * 1024
INFLATED_MAX_BYTES = 256 * 1024
# The raw body of a POST to a SAML endpoint, read before Django parses it.
BODY_MAX_BYTES = 512 * 1024
MESSAGE_PARAMS = ("SAMLRequest", "SAMLResponse")


class BindingError(ValueError):
    """The message could not be read; ``why`` names the failed step."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True, slots=True)
class SamlMessage:
    """One SAML protocol message as received."""

    param: str  # "SAMLRequest" or "SAMLResponse"
    redirect: bool  # HTTP-Redirect (query string, deflated) or HTTP-POST
    xml: bytes
    relay_state: str
    sig_alg: str  # Redirect binding only
    signature: bytes  # Redirect binding only
    signed_query: bytes  # the octets the Redirect signature covers


def inflate_bounded(data: bytes, *, limit: int = INFLATED_MAX_BYTES) -> bytes:
    """Return the raw DEFLATE ``data`` inflated, refusing more than ``limit`` bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BindingError("not deflated") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise BindingError("inflates too large")
    return out


def base64_strict(value: str) -> bytes:
    """Decode ``value`` (whitespace allowed, as IdPs wrap lines) or raise BindingError."""
    if len(value) > ENCODED_MAX_BYTES:
        raise BindingError("too large")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BindingError("not base64") from exc


def body_too_large(request: HttpRequest) -> bool:
    """Return True if the POST body is over ``BODY_MAX_BYTES`` (checked
    before Django reads it, so an over-size body is never parsed).
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > BODY_MAX_BYTES


def message_read(request: HttpRequest) -> SamlMessage:
    """Return the one SAML message of ``request`` (GET: Redirect binding,
    POST: POST binding), or raise BindingError.
    """
    if request.method == "GET":
        return _redirect_read(request)
    if request.method != "POST" or body_too_large(request):
        raise BindingError("too large" if request.method == "POST" else "method")
    try:
        data = request.POST
    except (RequestDataTooBig, RawPostDataException) as exc:
        raise BindingError("too large") from exc
    params = [name for name in MESSAGE_PARAMS if name in data]
    if len(params) != 1 or len(data.getlist(params[0])) != 1:
        raise BindingError("no single message")
    xml = base64_strict(data[params[0]])
    if len(xml) > INFLATED_MAX_BYTES:
        raise BindingError("too large")
    return SamlMessage(
        param=params[0],
        redirect=False,
        xml=xml,
        relay_state=data.get("RelayState", "")[:1024],
        sig_alg="",
        signature=b"",
        signed_query=b"",
    )


def _redirect_read(request: HttpRequest) -> SamlMessage:
    """Read the query string by hand: the signature covers the octets as
    sent (SAML Bindings 3.4.4.1), which re-encoding would not reproduce.
    """
    query = request.META.get("QUERY_STRING", "")
    if len(query) > ENCODED_MAX_BYTES + 8192:
        raise BindingError("too large")
    raw: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name in raw:
            raise BindingError("repeated parameter")
        raw[name] = value
    params = [name for name in MESSAGE_PARAMS if name in raw]
    if len(params) != 1:
        raise BindingError("no single message")
    param = params[0]
    xml = inflate_bounded(base64_strict(unquote_plus(raw[param])))
    signed = "&".join(
        f"{name}={raw[name]}" for name in (param, "RelayState", "SigAlg") if name in raw
    )
    signature = base64_strict(unquote_plus(raw["Signature"])) if "Signature" in raw else b""
    return SamlMessage(
        param=param,
        redirect=True,
        xml=xml,
        relay_state=unquote_plus(raw.get("RelayState", ""))[:1024],
        sig_alg=unquote_plus(raw.get("SigAlg", "")),
        signature=signature,
        signed_query=signed.encode("ascii", errors="replace"),
    )


def redirect_url_build(
    location: str, *, param: str, xml: str, relay_state: str, key: RSAPrivateKey | None
) -> str:
    """Return ``location`` with the deflated ``xml`` as ``param``, signed
    (SHA-256, the query-string signature) with ``key`` when given.
    """
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = deflater.compress(xml.encode()) + deflater.flush()
    args = {param: base64.b64encode(deflated).decode()}
    if relay_state:
        args["RelayState"] = relay_state
    if key is not None:
        args["SigAlg"] = SIG_ALG_DEFAULT
        signature = query_sign(urlencode(args).encode("ascii"), key=key)
        args["Signature"] = base64.b64encode(signature).decode()
    glue = "&" if urlsplit(location).query else "?"
    return f"{location}{glue}{urlencode(args)}"
