"""``/sso/<site_id>/<audience>/...``: URL names are namespaced as ``sso:*``."""

from __future__ import annotations

from django.urls import path

from sso import views
from sso.jwt import views as jwt_views

app_name = "sso"

urlpatterns = [
    path("<int:site_id>/agent/login/", views.agent_login_start, name="agent-login"),
    path("<int:site_id>/agent/jwt/", jwt_views.agent_jwt_callback, name="agent-jwt"),
]
