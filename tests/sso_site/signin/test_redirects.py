"""Where a sign-in may send the browser afterwards."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from sso_site.signin.redirects import redirect_target_check
from sso_site.signin.refusals import RefusalReason, SignInRefused
from tenants.models import Site


@pytest.mark.parametrize(
    "target",
    ["/console/", "/console/?tab=chats", "http://testserver/console/", "https://shop.example/help"],
)
def test_own_pages_and_listed_origins_are_allowed(site: Site, target: str) -> None:
    request = RequestFactory().get("/")
    assert redirect_target_check(request, site=site, target=target, default="/x") == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "https://shop.example.evil.example/",
        "https://shop.example@evil.example/",
        "javascript:alert(1)",
        "ftp://shop.example/",
    ],
)
def test_other_origins_are_refused(site: Site, target: str) -> None:
    request = RequestFactory().get("/")
    with pytest.raises(SignInRefused) as refused:
        redirect_target_check(request, site=site, target=target, default="/x")
    assert refused.value.reason == RefusalReason.UNSAFE_REDIRECT


def test_another_sites_origin_is_refused(site: Site, other_site: Site) -> None:
    other_site.allowed_origins = "https://other.example"
    other_site.save()
    with pytest.raises(SignInRefused) as refused:
        redirect_target_check(
            RequestFactory().get("/"), site=site, target="https://other.example/", default="/"
        )
    assert refused.value.reason == RefusalReason.UNSAFE_REDIRECT


def test_empty_target_gives_the_default(site: Site) -> None:
    assert (
        redirect_target_check(RequestFactory().get("/"), site=site, target="", default="/d") == "/d"
    )
