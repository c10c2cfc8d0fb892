"""The multi-tenant admin: operators see and edit only their own sites' data.

``SiteScopedAdmin`` is the base of every admin of tenant data. It scopes the
changelist (and so change pages, autocomplete and raw-id popups, which all go
through ``get_queryset``), the choices of every foreign key, and the object
permissions; and an object's site cannot be changed once it exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField, ModelForm
from django.http import HttpRequest

from tenants.admin_params import BoundedParamsAdmin, admin_params_bound_auth, login_event_why
from tenants.domains import site_domain_confirm, site_domain_verify_dns
from tenants.models import Agent, LoginEvent, Site, SiteDomain, SiteOperator, SiteOwned
from tenants.selectors import sites_operated_by
from tenants.services import agent_deactivate, operator_grant

admin_params_bound_auth()

# Inlines other apps show under a site (they append to this list from their
# own admin module, so tenants imports none of them).
SITE_INLINES: list[type[InlineModelAdmin[Any, Any]]] = []


def operator_sites(request: HttpRequest) -> QuerySet[Site]:
    """Return the sites the request's user may administer (cached per request)."""
    cached: QuerySet[Site] | None = getattr(request, "_operator_sites", None)
    if cached is None:
        cached = sites_operated_by(user=request.user)
        request._operator_sites = cached  # type: ignore[attr-defined]
    return cached


def _site_pk_of(obj: Model) -> int | None:
    if isinstance(obj, Site):
        return obj.pk
    return getattr(obj, "site_id", None)


class SiteScopedAdmin(BoundedParamsAdmin):
    """Base admin for tenant data; ``site_lookup`` leads from the model to its Site."""

    site_lookup = "site"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.site_lookup}__in": operator_sites(request)})

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        related = db_field.related_model
        if related is Site:
            kwargs["queryset"] = operator_sites(request)
        elif isinstance(related, type) and issubclass(related, SiteOwned):
            kwargs["queryset"] = related.objects.filter(site__in=operator_sites(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        # Tenant data never moves between sites, not even for superusers.
        if obj is not None and self.site_lookup == "site":
            readonly.append("site")
        return readonly

    def _owns(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        site_pk = _site_pk_of(obj)
        return site_pk is not None and operator_sites(request).filter(pk=site_pk).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._owns(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._owns(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        # Defence in depth: the form already limits the site's choices.
        if not self._owns(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


@admin.register(Site)
class SiteAdmin(SiteScopedAdmin):
    site_lookup = "pk"
    list_display = ["site_id", "name", "is_active", "session_lifetime"]
    list_filter = ["is_active"]
    search_fields = ["name", "=site_id"]
    fieldsets = [
        (None, {"fields": ["site_id", "name", "is_active"]}),
        ("Embedding", {"fields": ["allowed_origins"]}),
        ("Sessions", {"fields": ["session_lifetime", "session_ends_with_browser"]}),
        (
            "Agents' sign-ins",
            {"fields": ["jit_domains", "sync_name", "sync_department", "sync_role"]},
        ),
    ]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_inlines(request, obj), *SITE_INLINES] if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Operators edit their site's settings, not its identity.
            readonly += ["site_id", "is_active"]
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Agent)
class AgentAdmin(SiteScopedAdmin):
    list_display = [
        "email", "name", "site", "role", "department", "is_active", "source", "last_synced_at",
        "last_sign_in_at",
    ]  # fmt: skip
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter), "role", "department", "is_active", "source",
    ]  # fmt: skip
    search_fields = ["email", "name"]
    autocomplete_fields = ["site"]
    readonly_fields = ["email_key", "source", "last_synced_at", "last_sign_in_at", "created_at"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected agents (their sessions end at once)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset.select_related("site"):
            agent_deactivate(site=agent.site, agent=agent)
        self.message_user(request, "Agent(s) deactivated.", messages.SUCCESS)


@admin.register(LoginEvent)
class LoginEventAdmin(SiteScopedAdmin):
    """The audit log: read-only for everyone."""

    list_display = [
        "created_at",
        "site",
        "audience",
        "protocol",
        "outcome",
        "reason",
        "why",
        "subject",
        "client_ip",
    ]
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter),
        "outcome",
        "reason",
        "audience",
        "protocol",
    ]
    search_fields = ["subject", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = ["why"]

    @admin.display(description="why")
    def why(self, obj: LoginEvent) -> str:
        """Name what refused (never a value): each mapped field and whether it was
        missing, wrongly typed or not an allowed choice; an identity's problem."""
        return login_event_why(obj.detail)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SiteOperator)
class SiteOperatorAdmin(BoundedParamsAdmin):
    """Grants of sites to operators: superusers only."""

    list_display = ["user", "site"]
    list_filter = ["site"]
    autocomplete_fields = ["site", "user"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    has_change_permission = has_delete_permission = has_view_permission

    def save_model(
        self, request: HttpRequest, obj: SiteOperator, form: ModelForm[Any], change: bool
    ) -> None:
        obj.pk = operator_grant(site=obj.site, user=obj.user).pk


@admin.register(SiteDomain)
class SiteDomainAdmin(SiteScopedAdmin):
    """Email domains a site claims; verified by DNS or by a superuser."""

    list_display = ["domain", "site", "verified_at", "verified_by", "txt_record"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "verified_by"]
    search_fields = ["domain"]
    readonly_fields = ["txt_record", "verified_at", "verified_by"]
    actions = ["verify_dns", "confirm"]

    @admin.display(description="TXT record to publish at the domain")
    def txt_record(self, obj: SiteDomain) -> str:
        return obj.txt_record if obj.pk else "(shown once saved)"

    @admin.action(description="Verify by DNS TXT record")
    def verify_dns(self, request: HttpRequest, queryset: QuerySet[SiteDomain]) -> None:
        for claim in queryset:
            ok = site_domain_verify_dns(claim=claim)
            level = messages.SUCCESS if ok else messages.WARNING
            outcome = "verified" if ok else f"not verified: no TXT record {claim.txt_record!r}"
            self.message_user(request, f"{claim.domain}: {outcome}", level)

    @admin.action(description="Confirm without DNS (superusers only)")
    def confirm(self, request: HttpRequest, queryset: QuerySet[SiteDomain]) -> None:
        for claim in queryset:
            site_domain_confirm(claim=claim, user=request.user)
        self.message_user(request, f"{queryset.count()} domain(s) confirmed.")

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("confirm", None)
        return actions
