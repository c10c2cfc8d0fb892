"""Development identity provider for the demo (``make run``) and the tests.

Installed only where ``SSO_DEMO`` is true; never in production settings.
"""
