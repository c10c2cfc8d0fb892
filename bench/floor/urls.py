"""The floor's two sign-in endpoints."""

from __future__ import annotations

from django.urls import path

from bench.floor import views

urlpatterns = [
    path("jwt/", views.jwt_signin),
    path("samlfast/", views.saml_signin),
]
