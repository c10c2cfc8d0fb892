"""Agent SSO over JWT: per-site settings, key loading, verification, callback."""
