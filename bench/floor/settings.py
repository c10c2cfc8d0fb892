"""Settings of the floor app: the minimum for sessions in PostgreSQL.

Environment: ``DATABASE_URL`` (the project's bench database), ``SECRET_KEY``,
``FLOOR_JWT_KEY`` (PEM public key file), ``FLOOR_IDP_CERT`` (PEM certificate
file of the IdP), ``FLOOR_IDP_ENTITY_ID``, ``FLOOR_SP_ENTITY_ID`` and
``FLOOR_ACS_URL``.
"""

from __future__ import annotations

import os

import dj_database_url

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_SECURE = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None

FLOOR_JWT_KEY = os.environ.get("FLOOR_JWT_KEY", "")
FLOOR_IDP_CERT = os.environ.get("FLOOR_IDP_CERT", "")
FLOOR_IDP_ENTITY_ID = os.environ.get("FLOOR_IDP_ENTITY_ID", "")
FLOOR_SP_ENTITY_ID = os.environ.get("FLOOR_SP_ENTITY_ID", "")
FLOOR_ACS_URL = os.environ.get("FLOOR_ACS_URL", "")
