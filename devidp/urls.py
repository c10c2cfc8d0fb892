"""``/dev-idp/...``: mounted only when ``SSO_DEMO`` is true."""

from __future__ import annotations

from django.urls import path

from devidp import views

app_name = "devidp"

urlpatterns = [
    path("metadata/", views.idp_metadata, name="metadata"),
    path("sso/", views.idp_sso, name="sso"),
    path("slo/", views.idp_slo, name="slo"),
]
