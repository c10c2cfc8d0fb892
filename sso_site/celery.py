"""The Celery application; its configuration comes from Django's settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.local")

app = Celery("sso_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
