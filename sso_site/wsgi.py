"""WSGI entry point."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.production")
django_application = get_wsgi_application()

# The chat window's "nothing new" polls are answered before Django (chats.live).
from chats.live import poll_fast_path  # noqa: E402 - needs Django set up first

application = poll_fast_path(django_application)
