"""OpenID Connect relying party, per site (agents).

The checks, each with its own reason code (``RefusalReason.OIDC_*``):

- the authorization request: code flow with PKCE (S256), ``state`` and
  ``nonce`` random per sign-in, kept in this browser's session and used
  once (``oidc_state_mismatch``); the redirect URI is exact;
- the provider's answer: an ``error`` (``oidc_provider_error``), a code the
  token endpoint refuses, e.g. replayed (``oidc_code_rejected``);
- the ID token (OIDC Core 3.1.3.7): an asymmetric algorithm the provider
  announces, never ``none`` nor HS* (``oidc_bad_algorithm``), a key of the
  provider's JWKS by ``kid``, refetched once on an unknown kid for rotation
  (``oidc_unknown_key``), the signature (``oidc_bad_signature``), ``iss``
  exact (``oidc_wrong_issuer``), ``aud`` containing the client ID
  (``oidc_wrong_audience``), ``azp`` equal to it when present or when
  several audiences (``oidc_wrong_azp``), ``exp`` (``oidc_expired``),
  ``iat`` (``oidc_bad_iat``), ``nonce`` (``oidc_nonce_mismatch``);
- the identity: the configured claim (``oidc_no_identity``), with
  ``email_verified`` not false (``oidc_email_unverified``); ``amr``/``acr``
  against the site's MFA policy (``mfa_required``); then ``sign_in()``.
"""
