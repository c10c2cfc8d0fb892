"""Protocol adapters (SAML, JWT): they verify, then call ``sso_site.signin``.

Nothing else imports this package.
"""
