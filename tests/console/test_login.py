"""The agent login page: site ID or work email, and the remembered site."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants.models import Site, SiteDomain

LOGIN = reverse("agent-login")


def _start(site: Site) -> str:
    return reverse("sso:agent-login", kwargs={"site_id": site.site_id})


def test_site_id_starts_sso_and_is_remembered(client: Client, site: Site) -> None:
    response = client.post(LOGIN, {"site_id": str(site.site_id)})

    assert response.status_code == 302
    assert response["Location"] == _start(site)
    cookie = response.cookies[settings.SSO_SITE_COOKIE]
    assert cookie.value == str(site.site_id)
    assert cookie["max-age"] >= 300 * 24 * 3600


def test_remembered_site_offers_continue_and_another_site(client: Client, site: Site) -> None:
    client.cookies[settings.SSO_SITE_COOKIE] = str(site.site_id)

    page = client.get(LOGIN).content.decode()

    assert f'id="remembered-site">{site.site_id}<' in page
    assert f'href="{_start(site)}"' in page
    assert 'id="change-site"' in page
    changed = client.get(LOGIN + "?change=1").content.decode()
    assert 'id="remembered-site"' not in changed
    assert 'name="site_id"' in changed


def test_work_email_of_a_verified_domain_goes_to_its_site(client: Client, site: Site) -> None:
    SiteDomain.objects.create(site=site, domain="a.example", verified_at=timezone.now())

    response = client.post(LOGIN, {"site_id": "alice@A.example", "next": "/console/"})

    assert response.status_code == 302
    assert response["Location"] == f"{_start(site)}?next=%2Fconsole%2F"
    assert response.cookies[settings.SSO_SITE_COOKIE].value == str(site.site_id)


def test_unverified_or_unknown_domain_asks_for_the_site_id(client: Client, site: Site) -> None:
    SiteDomain.objects.create(site=site, domain="a.example")

    for email in ("alice@a.example", "bob@nowhere.example"):
        response = client.post(LOGIN, {"site_id": email})
        assert response.status_code == 400
        assert "enter your site ID instead" in response.content.decode()


def test_garbage_and_out_of_range_ids_are_refused(client: Client) -> None:
    assert client.post(LOGIN, {"site_id": "12"}).status_code == 400
    assert client.post(LOGIN, {"site_id": "hello"}).status_code == 400
