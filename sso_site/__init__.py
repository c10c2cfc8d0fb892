"""The SSO gateway project package: settings, URLs and the one session layer."""

from __future__ import annotations

from sso_site.celery import app as celery_app

__all__ = ["celery_app"]
