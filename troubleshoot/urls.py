from __future__ import annotations

from django.contrib.admin import site as admin_site
from django.urls import path

from troubleshoot import views

app_name = "troubleshoot"
urlpatterns = [
    path("<int:site_pk>/", admin_site.admin_view(views.setup_view), name="setup"),
    path("<int:site_pk>/console/", admin_site.admin_view(views.console_view), name="console"),
    path("<int:site_pk>/refusals/", admin_site.admin_view(views.refusals_view), name="refusals"),
    path(
        "<int:site_pk>/test/<str:audience>/<str:protocol>/",
        admin_site.admin_view(views.test_start_view),
        name="test-start",
    ),
    path("test/<str:nonce>/", admin_site.admin_view(views.test_result_view), name="test-result"),
]
