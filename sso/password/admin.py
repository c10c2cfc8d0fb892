"""Admin of agents' password credentials and of break-glass sign-ins.

Break-glass uses are listed on their own page and announced at the top of
every credential page until an operator marks them reviewed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from typing_extensions import override

from sso.password.models import AgentCredential, BreakGlassUse
from sso.password.services import credential_set
from tenants.admin import SiteScopedAdmin


class CredentialForm(forms.ModelForm):  # type: ignore[type-arg]
    password = forms.CharField(
        widget=forms.PasswordInput,
        min_length=12,
        help_text="Sets the password and a new TOTP secret, shown once after saving.",
    )

    class Meta:
        model = AgentCredential
        fields = ["site", "agent", "break_glass"]


@admin.register(AgentCredential)
class AgentCredentialAdmin(SiteScopedAdmin):
    form = CredentialForm
    list_display = ["agent", "site", "break_glass", "created_at"]
    list_filter = ["break_glass"]
    search_fields = ["agent__email", "=site__site_id"]

    @override
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        secret = credential_set(
            site=obj.site,
            agent=obj.agent,
            password=form.cleaned_data["password"],
            break_glass=obj.break_glass,
        )
        obj.pk = AgentCredential.objects.get(site=obj.site, agent=obj.agent).pk
        self.message_user(
            request,
            f"TOTP secret (enrol it now, it is not shown again): {secret}",
            messages.WARNING,
        )

    @override
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        uses = BreakGlassUse.objects.filter(reviewed=False)
        if not request.user.is_superuser:
            uses = uses.filter(site__operators__user=request.user)
        unreviewed = uses.count()
        if unreviewed:
            self.message_user(
                request,
                f"{unreviewed} break-glass sign-in(s) not yet reviewed: see Break-glass uses.",
                messages.ERROR,
            )
        return super().changelist_view(request, extra_context)


@admin.register(BreakGlassUse)
class BreakGlassUseAdmin(SiteScopedAdmin):
    list_display = ["created_at", "site", "agent", "client_ip", "reviewed"]
    list_editable = ["reviewed"]
    list_filter = ["reviewed"]
    readonly_fields = ["site", "agent", "client_ip", "created_at"]

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
