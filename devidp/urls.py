"""``/dev-idp/...``: mounted only when ``SSO_DEMO`` is true."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "devidp"

urlpatterns: list[URLPattern] = []
