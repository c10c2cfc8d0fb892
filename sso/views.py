"""Protocol-independent SSO entry points."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from access.models import SsoMode
from access.selectors import access_policy_get
from sso.starters import sign_in_start
from sso_site.signin.redirects import redirect_target_check
from sso_site.signin.refusals import RefusalReason, SignInRefused, render_refusal
from tenants.models import Audience
from tenants.selectors import site_get_by_public_id, site_is_usable


@never_cache
def agent_login_start(request: HttpRequest, site_id: int) -> HttpResponse:
    """Start Agent SSO for ``site_id`` with whichever protocol the site uses."""
    site = site_get_by_public_id(site_id=site_id)
    try:
        if not site_is_usable(site):
            raise SignInRefused(
                RefusalReason.SITE_DISABLED, site=site, detail={"requested_site_id": site_id}
            )
        return_to = request.GET.get("return_to") or request.GET.get("next")
        if return_to:
            redirect_target_check(request, site=site, target=return_to, default="")
        if access_policy_get(site=site).sso_mode == SsoMode.OFF:
            # No SSO for this site's agents: they sign in with a password.
            return HttpResponseRedirect(
                reverse("sso:agent-password", kwargs={"site_id": site.site_id})
            )
        response = sign_in_start(request, site=site, audience=Audience.AGENT, return_to=return_to)
        if response is not None:
            return response
        raise SignInRefused(RefusalReason.NOT_CONFIGURED, site=site)
    except SignInRefused as refusal:
        return render_refusal(request, refusal, site=site, audience=Audience.AGENT)
