"""Settings for the test suite: the real PostgreSQL and Redis of this machine.

``DATABASE_URL`` and ``REDIS_URL`` override the defaults below.
"""

from __future__ import annotations

import os

import dj_database_url

from sso_site.settings.base import *  # noqa: F403
from sso_site.settings.base import SECRET_KEY, SSO_RATE_LIMITS, postgres_hardened

SECRET_KEY = SECRET_KEY or "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sso_site")
# Tests close connections after each request (live-server threads must not
# keep the test database open); benchmarks set CONN_MAX_AGE as production does.
DATABASES = {
    "default": postgres_hardened(
        dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
    )
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "sso_site.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 2.0},
    }
}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)

# Hashing demo passwords with the default hasher costs ~230 ms each.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SSO_DEMO = True
INSTALLED_APPS = [*INSTALLED_APPS, "devidp"]
SSO_JWKS_ALLOW_HTTP = SSO_JWKS_ALLOW_PRIVATE = True  # JWKS from a local server
SSO_OIDC_ALLOW_HTTP = SSO_OIDC_ALLOW_PRIVATE = True  # an OpenID provider on this machine
SSO_WEBHOOK_ALLOW_PRIVATE = True  # receivers are local test servers

# The suite signs in hundreds of times from 127.0.0.1: limits are off unless
# a test (or a server it starts, with SSO_RATE_LIMITS_ON=1) turns them on.
if os.environ.get("SSO_RATE_LIMITS_ON") != "1":
    SSO_RATE_LIMITS = dict.fromkeys(SSO_RATE_LIMITS, "1000000/m")
# Each refusal for an unknown site gets its row, as tests assert (the
# sampling has its own test).
SSO_UNKNOWN_SITE_AUDIT_SAMPLE = os.environ.get("SSO_RATE_LIMITS_ON") == "1"
