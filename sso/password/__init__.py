"""Password + TOTP sign-in for agents: everyday where the site's SSO is off
or optional, break-glass for designated agents where it is required.
"""
