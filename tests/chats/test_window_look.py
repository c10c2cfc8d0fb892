"""The window wears the campaign's colour and logo, safely: only a #rrggbb
colour, only an https logo whose origin alone is added to the CSP.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.fixtures.chats import Campaigns


def test_the_campaign_colour_and_logo_show_with_readable_text(
    client: Client, campaigns: Campaigns
) -> None:
    campaign = campaigns.none
    campaign.accent_color = "#ffd500"  # light: black text on it
    campaign.logo_url = "https://cdn.shop.example/logo.png"
    campaign.full_clean()
    campaign.save()

    response = client.get(f"/chat/{campaign.site.site_id}/{campaign.pk}/")

    page = response.content.decode()
    assert "--accent: #ffd500; --on-accent: #000000;" in page
    assert 'id="logo" src="https://cdn.shop.example/logo.png"' in page
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.shop.example" in policy
    assert "frame-ancestors 'self'" in policy


@pytest.mark.parametrize(
    ("color", "logo"),
    [
        ("red;x:y", "http://cdn.shop.example/logo.png"),
        ("#12345", "https://a.example;script-src *@b.example/x.png"),
    ],
)
def test_a_bad_colour_or_logo_is_refused_and_never_reaches_the_page(
    client: Client, campaigns: Campaigns, color: str, logo: str
) -> None:
    campaign = campaigns.none
    campaign.accent_color, campaign.logo_url = color, logo
    with pytest.raises(ValidationError) as invalid:
        campaign.full_clean()
    assert {"accent_color", "logo_url"} <= set(invalid.value.message_dict)
    campaign.save()  # saved around the form: the page still shows neither

    response = client.get(f"/chat/{campaign.site.site_id}/{campaign.pk}/")

    page = response.content.decode()
    assert "--accent: #2456d6; --on-accent: #ffffff;" in page
    assert 'id="logo"' not in page
    assert "script-src *" not in response["Content-Security-Policy"]
