"""``/dev-idp/...``: mounted only when ``SSO_DEMO`` is true."""

from __future__ import annotations

from django.urls import URLPattern, path

from devidp import jwt_login

app_name = "devidp"

urlpatterns: list[URLPattern] = [
    path("jwt/login/", jwt_login.jwt_login, name="jwt-login"),
    path("jwt/logout/", jwt_login.jwt_logged_out, name="jwt-logged-out"),
]
