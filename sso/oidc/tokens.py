"""ID token validation (OIDC Core 3.1.3.7), with one reason code per check."""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.conf import settings
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key

from sso.oidc.provider import Provider, provider_jwks
from sso_site.signin.refusals import RefusalReason, SignInRefused

ID_TOKEN_MAX_BYTES = 16 * 1024


def _refused(reason: RefusalReason, **detail: Any) -> SignInRefused:
    return SignInRefused(reason, detail=detail or None)


def _header(id_token: str) -> dict[str, Any]:
    if not isinstance(id_token, str) or len(id_token) > ID_TOKEN_MAX_BYTES:
        raise _refused(RefusalReason.OIDC_MALFORMED)
    try:
        return dict(jws.extract_compact(id_token.encode()).headers())
    except (JoseError, ValueError, TypeError) as exc:
        raise _refused(RefusalReason.OIDC_MALFORMED) from exc


def _key_for(*, provider: Provider, header: dict[str, Any]) -> dict[str, Any]:
    """Return the JWK that must have signed the token: by ``kid``, fetching
    the JWKS again once for a kid we do not know (the provider rotated).
    """
    kid = header.get("kid")
    for refresh in (False, True):
        keys = provider_jwks(provider=provider, refresh=refresh)
        if kid is not None:
            matching = [k for k in keys if k.get("kid") == kid]
        else:
            # Without a kid, only an unambiguous set will do.
            matching = keys if len(keys) == 1 else []
        if matching:
            return matching[0]
    raise _refused(RefusalReason.OIDC_UNKNOWN_KEY, kid=str(kid)[:64])


def id_token_verify(
    *, id_token: str, provider: Provider, client_id: str, nonce: str
) -> dict[str, Any]:
    """Return the claims of ``id_token`` once every check passed, else raise."""
    header = _header(id_token)
    alg = header.get("alg")
    if alg not in provider.algorithms:
        raise _refused(RefusalReason.OIDC_BAD_ALGORITHM, alg=str(alg)[:20])
    jwk = _key_for(provider=provider, header=header)
    try:
        key = import_key(jwk)
        claims = jwt.decode(id_token, key, algorithms=[alg]).claims
    except JoseError as exc:
        raise _refused(RefusalReason.OIDC_BAD_SIGNATURE) from exc
    _claims_check(claims, provider=provider, client_id=client_id, nonce=nonce)
    return claims


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refused(RefusalReason.OIDC_MALFORMED, claim=name)
    return float(value)


def _claims_check(
    claims: dict[str, Any], *, provider: Provider, client_id: str, nonce: str
) -> None:
    if claims.get("iss") != provider.issuer:
        raise _refused(RefusalReason.OIDC_WRONG_ISSUER)
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise _refused(RefusalReason.OIDC_WRONG_AUDIENCE)
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise _refused(RefusalReason.OIDC_WRONG_AZP)
    now, leeway = time.time(), settings.SSO_OIDC_LEEWAY_SECONDS
    if _number(claims, "exp") + leeway <= now:
        raise _refused(RefusalReason.OIDC_EXPIRED)
    iat = _number(claims, "iat")
    if iat > now + leeway or iat < now - settings.SSO_OIDC_FLOW_SECONDS:
        raise _refused(RefusalReason.OIDC_BAD_IAT)
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise _refused(RefusalReason.OIDC_NONCE_MISMATCH)
