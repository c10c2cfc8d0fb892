from __future__ import annotations

from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.console_index, name="index"),
    path("<int:site_id>/", views.console_index, name="site-index"),
]
