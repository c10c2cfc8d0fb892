"""Root URLs; see docs/PRODUCT.md for the public contract."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from console import views as console_views
from sso_site.views import healthz, visitor_signed_in

admin.site.site_header = "SSO gateway administration"
admin.site.site_title = "SSO gateway"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/troubleshoot/", include("troubleshoot.urls")),  # issue 15
    path("admin/", admin.site.urls),
    path("agent/login/", console_views.agent_login, name="agent-login"),
    path("agent/logout/", console_views.agent_logout, name="agent-logout"),
    path("console/", include("console.urls")),
    path("sso/", include("sso.urls")),
    path("chat/", include("chats.urls")),
    path("api/", include("api.urls")),
    path("scim/v2/", include("scim.urls")),
    path("visitor/signed-in/", visitor_signed_in, name="visitor-signed-in"),
]

if getattr(settings, "SSO_DEMO", False):
    urlpatterns.append(path("dev-idp/", include("devidp.urls")))

handler500 = "sso_site.views.server_error"
