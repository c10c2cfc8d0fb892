"""Settings shared by every environment, read from the environment (12-factor).

Environment variables:

- ``SECRET_KEY``: required in production; local and test have their own.
- ``DATABASE_URL``: any URL dj-database-url understands; SQLite file by
  default so ``make run`` needs nothing.
- ``REDIS_URL``: Redis for the cache and, unless ``CELERY_BROKER_URL`` is
  set, the Celery broker. Without either, Celery tasks run eagerly.
- ``ALLOWED_HOSTS``: comma-separated host names.
- ``SSO_SECURE_COOKIES``: ``1`` marks session and CSRF cookies Secure.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dj_database_url

from sso_site.logfilters import library_logger_names

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Return the environment variable ``name`` read as a boolean."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Return the comma-separated environment variable ``name`` as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",  # the API's OpenAPI schema
    "tenants",
    "campaigns",
    "mapping",
    "chats",
    "console",
    "sso.jwt",
    "djangosaml2",
    "sso.saml",
    "troubleshoot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # djangosaml2's own session (cookie ``saml_session``): the outstanding
    # AuthnRequest IDs and the NameID for logout. It must survive the
    # IdP's cross-site POST, hence SameSite=None, which browsers accept only
    # with Secure cookies; plain-HTTP development falls back to Lax.
    "djangosaml2.middleware.SamlSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sso_site.signin.middleware.SitePrincipalMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sso_site.middleware.InputBoundaryMiddleware",
]

ROOT_URLCONF = "sso_site.urls"
WSGI_APPLICATION = "sso_site.wsgi.application"
ASGI_APPLICATION = "sso_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Persistent connections: opening one costs more than a whole JWT
        # verification (see PERF_NOTES).
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Sessions: the database backend, so every app server sees every session.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SSO_SECURE_COOKIES")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Celery: a real broker when one is configured; otherwise tasks run in-process
# so ``make run`` needs nothing installed.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE = {
    "replay-purge": {"task": "tenants.tasks.replay_purge_expired", "schedule": 600.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The SSO layer.
SSO_SITE_COOKIE = "sso_site_id"  # remembers the site ID on the agent login page
# JWKS documents of JWT sites: fetch timeout, cache TTL, least interval
# between refetches on an unknown kid; plain http and private addresses
# (loopback, LAN, link-local) only for tests and demos.
SSO_JWKS_TIMEOUT_SECONDS = 3.0
SSO_JWKS_CACHE_SECONDS = 900
SSO_JWKS_REFETCH_SECONDS = 60
SSO_JWKS_ALLOW_HTTP = False
SSO_JWKS_ALLOW_PRIVATE = False
SAML_SESSION_COOKIE_SAMESITE = "None" if SECURE_COOKIES else "Lax"
# Let operators' IdP metadata URLs point at private networks (off: SSRF).
SSO_SAML_METADATA_PRIVATE_HOSTS = env_bool("SSO_SAML_METADATA_PRIVATE_HOSTS")
SAML_CSP_HANDLER = ""  # pages set their own headers; no django-csp here
# Oldest acceptable IssueInstant/AuthnInstant of a SAML response, in seconds
# (the clock leeway comes on top). An IdP session older than this must
# re-authenticate (ForceAuthn) or the site's operator raises this.
SSO_SAML_MAX_AUTHN_AGE = int(os.environ.get("SSO_SAML_MAX_AUTHN_AGE", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # pysaml2 logs every XSD it reads, and every NameID (an email), at INFO.
    "loggers": {
        "xmlschema": {"level": "WARNING"},
        # Every module logger of pysaml2 and djangosaml2: no DEBUG, and no
        # message text, arguments or traceback that may hold personal data.
        **{name: {"filters": ["saml_library"]} for name in library_logger_names()},
        "saml2": {"level": "WARNING", "filters": ["saml_library"]},
    },
    "filters": {"saml_library": {"()": "sso_site.logfilters.LibraryLogRedactor"}},
}

# pysaml2 imports a cipher mode that cryptography has moved; nothing of ours
# uses it. Silence that one warning so real ones stay visible.
warnings.filterwarnings(
    "ignore", message="CFB has been moved", module=r"saml2\.cryptography\.symmetric"
)

# Troubleshooting console (issue 15): how long a refused sign-in's redacted
# capture is kept (seconds), and its size cap (bytes).
SSO_CAPTURE_TTL = int(os.environ.get("SSO_CAPTURE_TTL", str(3 * 24 * 3600)))
SSO_CAPTURE_MAX_BYTES = 24 * 1024
