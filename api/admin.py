"""API tokens in the admin: created (shown once) and revoked by operators of
the site; the change log of API writes, read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from typing_extensions import override

from api.models import ApiChange, ApiToken, Scope
from api.services import api_token_create, api_token_revoke
from tenants.admin import SiteScopedAdmin


class ApiTokenAddForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ]
    )

    class Meta:
        model = ApiToken
        fields = ("site", "name", "scopes", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "prefix", "scopes", "state", "created_at", "last_used_at"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = [
        "site",
        "name",
        "scopes",
        "prefix",
        "state",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    @override
    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    @override
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    @override
    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["site", "name", "scopes", "expires_at"]
        return self.readonly_fields

    @override
    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # nothing of a token is edited; revoke it instead
        if not self._owns(request, obj):
            raise PermissionDenied
        token, raw = api_token_create(
            site=obj.site,
            name=obj.name,
            scopes=list(form.cleaned_data["scopes"]),
            expires_at=obj.expires_at,
            created_by=request.user.get_username(),
        )
        obj.pk = token.pk
        obj.prefix, obj.digest, obj.created_at = token.prefix, token.digest, token.created_at
        request._api_token_raw = raw  # type: ignore[attr-defined]

    @override
    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None
    ) -> HttpResponse:
        raw = getattr(request, "_api_token_raw", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "raw": raw,
            "changelist_url": reverse("admin:api_apitoken_changelist"),
        }
        response = TemplateResponse(request, "admin/api/token_shown.html", context)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    @admin.action(description="Revoke the selected tokens (at once, for good)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.select_related("site"):
            if self.has_change_permission(request, token):
                api_token_revoke(site=token.site, token=token)
        self.message_user(request, "Token(s) revoked.", messages.SUCCESS)


@admin.register(ApiChange)
class ApiChangeAdmin(SiteScopedAdmin):
    """What API tokens changed: read-only for everyone."""

    list_display = ["created_at", "site", "token_name", "action", "object_type", "object_id"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "action", "object_type"]
    search_fields = ["token_name", "object_id"]
    date_hierarchy = "created_at"

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
