"""The floor: a bare Django project that signs in with the same crypto as
the project under test and nothing else (``bench.signin_floor`` serves it).

Its ``jwt`` view decodes an RS256 token with a key loaded once, looks the
user up, records the ``jti`` and calls ``login()``; its ``samlfast`` view
verifies both signatures of a SAML Response in-process with python-xmlsec,
checks Destination, Issuer, Audience, Recipient and times, records the
assertion ID and calls ``login()``. It imports nothing of the project.
"""
