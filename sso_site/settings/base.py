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
from typing import Any

import dj_database_url

from lifecycle.schedule import BEAT_SCHEDULE as LIFECYCLE_BEAT_SCHEDULE
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
    "django_filters",
    "drf_spectacular",  # the API's OpenAPI schema
    "drf_spectacular_sidecar",
    "tenants",
    "campaigns",
    "mapping",
    "chats",
    "console",
    "sso.jwt",
    "djangosaml2",
    "sso.saml",
    "api",
    "access",
    "sso.oidc",
    "sso.password",
    "webhooks",
    "lifecycle",
    "scim",
    "troubleshoot",
]

MIDDLEWARE = [
    "sso_site.client_address.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "sso_site.csp.SiteCSPMiddleware",
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
    "sso_site.admin_session.AdminSessionMiddleware",
    "sso_site.ratelimit.RateLimitMiddleware",
    "sso_site.unavailable.UnavailableMiddleware",
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
# Timeouts (issue 11): opening a connection, a statement on the server, and
# a client-side deadline on every query (sso_site.db) for a server that stops
# answering on an open connection.
DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", "3"))
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "5000"))
SSO_DB_CLIENT_TIMEOUT = float(os.environ.get("DB_CLIENT_TIMEOUT", "8"))


def postgres_hardened(database: Any) -> Any:
    """Return ``database`` with the timeouts above when it is PostgreSQL."""
    if database.get("ENGINE") != "django.db.backends.postgresql":
        return database
    options = dict(database.get("OPTIONS", {}))
    options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    options.setdefault("options", f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}")
    return {**database, "ENGINE": "sso_site.db", "OPTIONS": options}


DATABASES["default"] = postgres_hardened(DATABASES["default"])

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "sso_site.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
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
SESSION_ENGINE = "sso_site.session_store"
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
# Metadata/JWKS refresh, expiry warnings, retention, webhook sweep (in code).
CELERY_BEAT_SCHEDULE.update(LIFECYCLE_BEAT_SCHEDULE)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
# The integration API (api/): per-token rate limit on the shared cache.
SSO_API_RATE = os.environ.get("SSO_API_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "SSO gateway API",
    "DESCRIPTION": "Configure a site's single sign-on, agents and campaigns. "
    "Authenticate with a per-site token: `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AgentRoleEnum": "api.schema.AGENT_ROLES",
        "ProtocolEnum": "tenants.models.Protocol",
        "MappedProtocolEnum": "mapping.models.MAPPED_PROTOCOLS",
    },
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
# Proxies (networks, comma-separated) whose X-Forwarded-For names the client;
# empty: REMOTE_ADDR is the client. List only your own load balancers.
SSO_TRUSTED_PROXIES = env_list("SSO_TRUSTED_PROXIES")
# OpenID Connect: discovery and JWKS documents cached, fetch timeout, least
# interval between JWKS refetches on an unknown kid, clock leeway, and the
# longest a sign-in may take between start and callback.
SSO_OIDC_DISCOVERY_CACHE_SECONDS = 3600
SSO_OIDC_JWKS_CACHE_SECONDS = 900
SSO_OIDC_JWKS_REFETCH_SECONDS = 60
SSO_OIDC_TIMEOUT_SECONDS = 5.0
SSO_OIDC_LEEWAY_SECONDS = 60
SSO_OIDC_FLOW_SECONDS = 600
SSO_OIDC_ALLOW_HTTP = False
SSO_OIDC_ALLOW_PRIVATE = False
# Password / break-glass sign-in: failures per agent before a lockout, and its length.
SSO_PASSWORD_MAX_FAILURES = 5
SSO_PASSWORD_LOCKOUT_SECONDS = 900
# Webhooks (webhooks app): attempts before a delivery is marked failed,
# first back-off (doubling, with jitter, capped), per-attempt timeout;
# plain http and private addresses only for tests and demos.
SSO_WEBHOOK_MAX_ATTEMPTS = 8
SSO_WEBHOOK_BACKOFF_SECONDS = 30.0
SSO_WEBHOOK_BACKOFF_MAX_SECONDS = 6 * 3600
SSO_WEBHOOK_TIMEOUT_SECONDS = 10.0
SSO_WEBHOOK_ALLOW_PRIVATE = False
# Lifecycle (lifecycle app): expiry warning thresholds (days), default
# retention of audit events and deliveries (days; per site in the admin).
SSO_EXPIRY_WARNING_DAYS = (30, 7, 1)
SSO_RETENTION_DAYS = 90
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sso-gateway@localhost")
SAML_CSP_HANDLER = ""  # pages set their own headers; no django-csp here
# Oldest acceptable IssueInstant/AuthnInstant of a SAML response, in seconds
# (the clock leeway comes on top). An IdP session older than this must
# re-authenticate (ForceAuthn) or the site's operator raises this.
SSO_SAML_MAX_AUTHN_AGE = int(os.environ.get("SSO_SAML_MAX_AUTHN_AGE", "300"))
# Memory each process may spend on cached per-site SAML SP configurations
# (least recently used go first; ~45-60 KB a site, see sso.saml.config).
SSO_SAML_SP_CACHE_MB = float(os.environ.get("SSO_SAML_SP_CACHE_MB", "128"))

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

# --- Operations (issue 11): limits, timeouts, headers. README "Operations". ---

# Rate limits (django-ratelimit on the shared cache, so every app server
# counts together). "N/s|m|h" per client address and per site; see
# sso_site/ratelimit.py for which endpoint uses which.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True  # the cache down must not stop sign-ins
# Behind the proxy of ``make serve`` the client address is in X-Real-IP
# (sso_site.client_address copies it to REMOTE_ADDR); set it only when the
# app is reachable through that proxy alone.
SSO_CLIENT_IP_HEADER = os.environ.get("SSO_CLIENT_IP_HEADER", "")
SSO_RATE_LIMITS = {
    "signin_ip": os.environ.get("SSO_RATE_SIGNIN_IP", "60/m"),
    "signin_site": os.environ.get("SSO_RATE_SIGNIN_SITE", "600/m"),
    "login_form_ip": os.environ.get("SSO_RATE_LOGIN_FORM_IP", "20/m"),
    "chat_start_ip": os.environ.get("SSO_RATE_CHAT_START_IP", "10/m"),
    "chat_start_token": os.environ.get("SSO_RATE_CHAT_START_TOKEN", "3/m"),
    "chat_start_site": os.environ.get("SSO_RATE_CHAT_START_SITE", "600/m"),
    "admin_login_ip": os.environ.get("SSO_RATE_ADMIN_LOGIN_IP", "20/15m"),
    "admin_login_account": os.environ.get("SSO_RATE_ADMIN_LOGIN_ACCOUNT", "5/15m"),
}
# Refusals for sites that do not exist are counted per minute, not written
# one audit row each (sso_site/refusal_sampling.py).
SSO_UNKNOWN_SITE_AUDIT_SAMPLE = True

# Redis: short socket timeouts (CACHES above); Celery below.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An unacknowledged task (its worker died) is delivered again after this
# many seconds; it must exceed the longest task's run time. Workers sweep for
# such tasks every third of it (at most every minute), and every sweep scans:
# kombu's default scans on every tenth 10-s tick only, so a task that became
# due just after a worker's first sweep waited 100 s more.
celery_visibility_timeout = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": celery_visibility_timeout,
    "unacked_restore_interval": max(1, min(60, celery_visibility_timeout // 3)),
    "unacked_restore_throttle": 1,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE["chats-expire-abandoned"] = {
    "task": "chats.tasks.chats_expire_abandoned",
    "schedule": 300.0,
}
SSO_GUEST_CHAT_IDLE_MINUTES = int(os.environ.get("SSO_GUEST_CHAT_IDLE_MINUTES", "30"))
SSO_CONSOLE_PAGE_SIZE = 50

# Sessions: a cookie lifetime for everyone; the admin's idle and absolute
# limits (sso_site/admin_session.py).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
SSO_ADMIN_IDLE_SECONDS = int(os.environ.get("SSO_ADMIN_IDLE_SECONDS", "1800"))
SSO_ADMIN_MAX_AGE_SECONDS = int(os.environ.get("SSO_ADMIN_MAX_AGE_SECONDS", str(8 * 3600)))

# Content-Security-Policy (django-csp) on every page; the chat window adds
# its site's frame-ancestors (sso_site/csp.py). Inline scripts of the
# existing templates still need 'unsafe-inline' (nonces are a follow-up).
CONTENT_SECURITY_POLICY = {
    # The development IdP's pages play other web sites (a shop page that
    # embeds the window from another origin): not the gateway's own pages.
    "EXCLUDE_URL_PREFIXES": ["/dev-idp/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}

# The chat window's push stream (chats.stream; README "Deployment"): "off"
# when no stream server runs (the window polls every 1.5 s, as under `make
# run`), "self" when nginx routes /chat/.../api/stream/ to it on the
# gateway's own origin (`make serve` sets this), or the stream server's
# origin (https://stream.example.com) when it has its own.
SSO_CHAT_STREAM = os.environ.get("SSO_CHAT_STREAM", "off")
# With the stream open, a window still polls this often (seconds), in case a
# push was lost (e.g. Redis restarted between a change and its publish).
SSO_CHAT_SAFETY_POLL_S = int(os.environ.get("SSO_CHAT_SAFETY_POLL_S", "25"))

# Troubleshooting console (issue 15): how long a refused sign-in's redacted
# capture is kept (seconds), and its size cap (bytes).
SSO_CAPTURE_TTL = int(os.environ.get("SSO_CAPTURE_TTL", str(3 * 24 * 3600)))
SSO_CAPTURE_MAX_BYTES = 24 * 1024
