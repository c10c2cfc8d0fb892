"""SAML 2.0 service provider, one SP entity per site and audience."""
