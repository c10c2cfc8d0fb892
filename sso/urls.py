"""``/sso/<site_id>/<audience>/...``: URL names are namespaced as ``sso:*``."""

from __future__ import annotations

from django.urls import path

from sso import views, visitor
from sso.jwt import views as jwt_views
from sso.saml import slo as saml_slo
from sso.saml import views as saml_views

app_name = "sso"

urlpatterns = [
    path("<int:site_id>/agent/login/", views.agent_login_start, name="agent-login"),
    path("<int:site_id>/agent/jwt/", jwt_views.agent_jwt_callback, name="agent-jwt"),
    path("<int:site_id>/agent/saml/acs/", saml_views.AgentAcsView.as_view(), name="agent-saml-acs"),
    path(
        "<int:site_id>/agent/saml/metadata/",
        saml_views.AgentMetadataView.as_view(),
        name="agent-saml-metadata",
    ),
    path("<int:site_id>/agent/saml/sls/", saml_slo.AgentSlsView.as_view(), name="agent-saml-sls"),
    path("<int:site_id>/visitor/login/", visitor.visitor_login_start, name="visitor-login"),
    path("<int:site_id>/visitor/jwt/", visitor.visitor_jwt_callback, name="visitor-jwt"),
    path(
        "<int:site_id>/visitor/saml/acs/",
        saml_views.VisitorAcsView.as_view(),
        name="visitor-saml-acs",
    ),
    path(
        "<int:site_id>/visitor/saml/metadata/",
        saml_views.VisitorMetadataView.as_view(),
        name="visitor-saml-metadata",
    ),
    path(
        "<int:site_id>/visitor/saml/sls/",
        saml_slo.VisitorSlsView.as_view(),
        name="visitor-saml-sls",
    ),
]
