"""``/scim/v2/<site_id>/``: one SCIM service per site."""

from __future__ import annotations

from django.urls import path, re_path

from scim.views.discovery import (
    ResourceTypeView,
    RootSearchView,
    SchemaView,
    ServiceProviderConfigView,
    UnknownView,
)
from scim.views.groups import GroupDetailView, GroupListView, GroupSearchView
from scim.views.users import UserDetailView, UserListView, UserSearchView

app_name = "scim"

urlpatterns = [
    path("<int:site_id>/ServiceProviderConfig", ServiceProviderConfigView.as_view(), name="spc"),
    path("<int:site_id>/ResourceTypes", ResourceTypeView.as_view(), name="resource-types"),
    path("<int:site_id>/ResourceTypes/<str:pk>", ResourceTypeView.as_view()),
    path("<int:site_id>/Schemas", SchemaView.as_view(), name="schemas"),
    path("<int:site_id>/Schemas/<str:pk>", SchemaView.as_view()),
    path("<int:site_id>/Users", UserListView.as_view(), name="users"),
    path("<int:site_id>/Users/.search", UserSearchView.as_view()),
    path("<int:site_id>/Users/<str:pk>", UserDetailView.as_view(), name="user"),
    path("<int:site_id>/Groups", GroupListView.as_view(), name="groups"),
    path("<int:site_id>/Groups/.search", GroupSearchView.as_view()),
    path("<int:site_id>/Groups/<str:pk>", GroupDetailView.as_view(), name="group"),
    path("<int:site_id>/.search", RootSearchView.as_view()),
    re_path(r"^(?P<site_id>[0-9]{1,9})/.*$", UnknownView.as_view()),
]
