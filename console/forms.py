from __future__ import annotations

from django import forms

from tenants.models import SITE_ID_MAX, SITE_ID_MIN


class SiteIdForm(forms.Form):
    site_id = forms.IntegerField(
        label="Site ID",
        min_value=SITE_ID_MIN,
        max_value=SITE_ID_MAX,
        widget=forms.NumberInput(attrs={"autofocus": True, "inputmode": "numeric"}),
        help_text="The number your administrator gave you, e.g. 10001.",
    )
