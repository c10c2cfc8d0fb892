"""Settings for ``make run``: SQLite, eager tasks, debug pages, demo IdP."""

from __future__ import annotations

from sso_site.settings.base import *  # noqa: F403
from sso_site.settings.base import SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
SSO_DEMO = True
INSTALLED_APPS = [*INSTALLED_APPS, "devidp"]
SSO_JWKS_ALLOW_HTTP = SSO_JWKS_ALLOW_PRIVATE = True  # JWKS from a local server
SSO_OIDC_ALLOW_HTTP = SSO_OIDC_ALLOW_PRIVATE = True  # an OpenID provider on this machine
