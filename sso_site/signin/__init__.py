"""The one session layer: the only code that writes sign-in state to a session.

Protocol adapters (SAML, JWT, password) verify what the browser brought, build
a ``VerifiedIdentity`` and call ``sign_in()``; a refusal is a
``SignInRefused`` exception, rendered by ``render_refusal()``.
"""
