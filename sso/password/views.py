"""``/sso/<site_id>/agent/password/``: password + TOTP sign-in for agents."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from sso.password.services import break_glass_record, password_identity
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from sso_site.signin.session import sign_in
from tenants.models import Agent, Audience, Protocol
from tenants.selectors import site_get_by_public_id, site_is_usable
from tenants.services import client_ip


class PasswordForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(max_length=200, widget=forms.PasswordInput)
    code = forms.CharField(label="One-time code", max_length=10)


@never_cache
@require_http_methods(["GET", "POST"])
def agent_password(request: HttpRequest, site_id: int) -> HttpResponse:
    """Show the form; on POST check password and code, then sign in."""
    site = site_get_by_public_id(site_id=site_id)
    try:
        if not site_is_usable(site):
            raise SignInRefused(
                RefusalReason.SITE_DISABLED, site=site, detail={"requested_site_id": site_id}
            )
        form = PasswordForm(request.POST or None)
        if request.method != "POST":
            return render(request, "sso/password.html", {"form": form, "site": site})
        if not form.is_valid():
            raise SignInRefused(RefusalReason.BAD_REQUEST)
        identity, break_glass = password_identity(site=site, **form.cleaned_data)
        result = sign_in(request, identity=identity, return_to=request.GET.get("next"))
        if break_glass and isinstance(result.principal, Agent):
            break_glass_record(site=site, agent=result.principal, client_ip=client_ip(request))
        return HttpResponseRedirect(result.redirect_to)
    except SignInRefused as refusal:
        return render_refusal(
            request, refusal, site=site, audience=Audience.AGENT, protocol=Protocol.PASSWORD
        )
