"""``/dev-idp/...``: mounted only when ``SSO_DEMO`` is true."""

from __future__ import annotations

from django.urls import URLPattern, path

from devidp import chat_demo, jwt_login, oidc_provider, views

app_name = "devidp"

urlpatterns: list[URLPattern] = [
    path("jwt/login/", jwt_login.jwt_login, name="jwt-login"),
    path("jwt/logout/", jwt_login.jwt_logged_out, name="jwt-logged-out"),
    path("metadata/", views.idp_metadata, name="metadata"),
    path("sso/", views.idp_sso, name="sso"),
    path("slo/", views.idp_slo, name="slo"),
    path("visitor/login/", chat_demo.visitor_login, name="visitor-login"),
    path("shop/", chat_demo.shop, name="shop"),
    path("shop/token/", chat_demo.shop_token, name="shop-token"),
    path(
        "oidc/.well-known/openid-configuration",
        oidc_provider.discovery,
        name="oidc-discovery",
    ),
    path("oidc/jwks/", oidc_provider.jwks, name="oidc-jwks"),
    path("oidc/authorize/", oidc_provider.authorize, name="oidc-authorize"),
    path("oidc/token/", oidc_provider.token, name="oidc-token"),
    path("oidc/logout/", oidc_provider.logout, name="oidc-logout"),
]
