"""SAML 2.0 service provider: one SP entity per site and audience.

What the safety rests on (see ``config.py``, ``crypto.py``, ``checks.py``):

- pysaml2 SP settings: ``want_assertions_signed=True`` (the assertion
  itself must be signed), ``only_use_keys_in_metadata=True`` (keys from the
  site's IdP metadata only, never a KeyInfo in the message),
  ``allow_unsolicited`` only where the site allows IdP-initiated sign-in,
  ``accepted_time_diff=60`` (NotBefore/NotOnOrAfter leeway), the endpoint
  list (Destination/Recipient) and the entity ID (Audience) of this site.
- The ACS (``acs.py``) does not hand the response to pysaml2: the message
  is parsed once (``checks.response_precheck``), its signed elements are
  checked against the SAML schema (libxml2) and their signatures verified
  in-process with python-xmlsec (``verify.py``): one enveloped Reference to
  the signed element's own ID, which occurs once (signature wrapping),
  exclusive c14n, keys from the IdP metadata only; an EncryptedAssertion is
  decrypted with the SP key first.
- Before any signature is verified (``checks.response_precheck``, which only
  refuses): size, no DOCTYPE (no DTD, no entities), a samlp:Response of
  version 2.0 with status Success and exactly one (possibly encrypted)
  assertion, SHA-1/MD5 only where the site allows it, a Destination that is
  this ACS, an IssueInstant within SSO_SAML_MAX_AUTHN_AGE, and an
  InResponseTo this browser sent to this site for this audience
  (``state.py``, single use).
- Once verified (and decrypted), ``assertion_checks`` checks
  the verified Response and assertion explicitly: versions, Destination,
  issuers (and their Format), one assertion, AudienceRestriction naming
  this SP, a bearer SubjectConfirmation (Recipient, NotOnOrAfter,
  InResponseTo, no NotBefore), Conditions' times, IssueInstant and
  AuthnInstant age, status, and what pysaml2 used to check besides (one
  AuthnStatement, SessionNotOnOrAfter, unknown Conditions). Each failure has
  its own reason code.
- Then, in one transaction: the assertion ID is consumed in the shared
  database (``tenants.services.token_consume``), MFA context, the identity
  (NameID or the configured attribute), ``sign_in()`` (which also checks
  RelayState and writes the success audit row).
- Logs: pysaml2's and djangosaml2's loggers are stripped of personal data
  (``sso_site.logfilters``); one line per refusal with its reason code.
"""
