from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from tenants.domains import site_get_by_email
from tenants.identity_keys import IdentityError, email_validate
from tenants.inputs import InputError, ascii_int
from tenants.models import SITE_ID_MAX, SITE_ID_MIN


class SiteIdForm(forms.Form):
    """Find the site by its ID or by the domain of a work email."""

    site_id = forms.CharField(
        label="Site ID or work email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "email"}),
        help_text="The number your administrator gave you (e.g. 10001), or your work email.",
    )

    def clean_site_id(self) -> int:
        value = str(self.cleaned_data["site_id"]).strip()
        if "@" not in value:
            try:
                return ascii_int(value, minimum=SITE_ID_MIN, maximum=SITE_ID_MAX)
            except InputError as error:
                if error.code == "integer_out_of_range":
                    raise ValidationError(
                        "A site ID is a number from %(min)s to %(max)s.",
                        params={"min": SITE_ID_MIN, "max": SITE_ID_MAX},
                        code="site_id_range",
                    ) from None
                raise ValidationError(
                    "Enter a site ID (a number) or a work email.", code="invalid"
                ) from None
        try:
            value = email_validate(value)
        except IdentityError:
            raise ValidationError(
                "Enter a site ID (a number) or a work email.", code="invalid"
            ) from None
        site = site_get_by_email(email=value)
        if site is None:
            # Same words whether no site or several claim the domain.
            raise ValidationError(
                "We could not find your site from this email; enter your site ID instead.",
                code="unknown_domain",
            )
        return site.site_id
