"""SAML 2.0 service provider: one SP entity per site and audience.

What the safety rests on (see ``config.py``, ``crypto.py``, ``checks.py``):

- pysaml2 SP settings: ``want_assertions_signed=True`` (the assertion
  itself must be signed), ``only_use_keys_in_metadata=True`` (keys from the
  site's IdP metadata only, never a KeyInfo in the message),
  ``allow_unsolicited`` only where the site allows IdP-initiated sign-in,
  ``accepted_time_diff=60`` (NotBefore/NotOnOrAfter leeway), the endpoint
  list (Destination/Recipient) and the entity ID (Audience) of this site.
- Signatures are verified in-process with python-xmlsec, on the one node
  pysaml2 asks about, refusing documents where that ID occurs twice
  (signature wrapping); pysaml2 itself enforces one enveloped reference to
  the signed element's own ID and exclusive c14n.
- Before pysaml2 sees a response: any DOCTYPE is refused (no DTD, no
  entities), SHA-1/MD5 algorithms unless the site allows SHA-1,
  Destination/Recipient other than this ACS, an InResponseTo this browser
  did not send (djangosaml2's outstanding requests, in its SAML session).
- After verification: the assertion ID is consumed in the shared database
  (``tenants.services.token_consume``), MFA context, the email, then
  ``sign_in()``, which also checks RelayState.
"""
