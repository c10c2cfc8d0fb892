"""``/api/v1/``: the resources, the OpenAPI schema and its docs.

URL names are namespaced ``api:*``.
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from api.views.agents import AgentViewSet
from api.views.config import (
    CampaignViewSet,
    CustomVariableViewSet,
    FieldMappingViewSet,
    RoutingRuleViewSet,
    SiteDomainViewSet,
)
from api.views.records import ApiChangeViewSet, ChatViewSet, LoginEventViewSet, VisitorViewSet
from api.views.settings import JwtSettingsViewSet, SamlSettingsViewSet, SiteSettingsViewSet

app_name = "api"

router = SimpleRouter()
router.register("agents", AgentViewSet, basename="agent")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("custom-variables", CustomVariableViewSet, basename="custom-variable")
router.register("field-mappings", FieldMappingViewSet, basename="field-mapping")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("email-domains", SiteDomainViewSet, basename="email-domain")
router.register("visitors", VisitorViewSet, basename="visitor")
router.register("chats", ChatViewSet, basename="chat")
router.register("login-events", LoginEventViewSet, basename="login-event")
router.register("changes", ApiChangeViewSet, basename="change")
router.register("saml-settings", SamlSettingsViewSet, basename="saml-settings")
router.register("jwt-settings", JwtSettingsViewSet, basename="jwt-settings")

site_settings = SiteSettingsViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update"}
)

urlpatterns = [
    path("v1/site/", site_settings, name="site"),
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(metadata_class=None), name="schema"),
    path(
        "v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", metadata_class=None),
        name="docs",
    ),
    path(
        "v1/redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", metadata_class=None),
        name="redoc",
    ),
]
