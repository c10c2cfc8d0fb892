"""The admin's "try it" form: run a site's mappings on a pasted sample.

A sample JWT is decoded WITHOUT verifying its signature (the page says so):
it is only read to show what the mappings would make of it, nothing is
signed in and nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from django import forms
from django.db.models import QuerySet

from mapping.mapper import MappingResult, Rule
from mapping.models import MAPPED_PROTOCOLS
from mapping.services import mapping_run, rules_load
from tenants.inputs import InputError, json_read
from tenants.models import Audience, Protocol, Site

SAMPLE_MAX = 64 * 1024
SAMPLE_MAX_DEPTH = 32
SAMPLE_PROBLEMS = {
    "json_too_deep": f"The sample nests deeper than {SAMPLE_MAX_DEPTH} levels.",
    "bad_text": "The sample holds a NUL character or a lone surrogate.",
    "body_too_large": "The sample is too large.",
}
# The site page posts its whole form, with these, to try its unsaved mappings.
UNSAVED_FLAG = "_try_unsaved"
TRY_FIELDS = ("audience", "protocol", "sample")


def sample_decode(text: str) -> dict[str, Any]:
    """Return the claims of a JWT (unverified) or the JSON object in ``text``."""
    text = text.strip()
    if text.count(".") == 2 and not text.startswith("{"):
        try:
            claims = jwt.decode(text, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise forms.ValidationError(f"This is not a readable JWT ({error}).") from None
        except RecursionError:
            raise forms.ValidationError(SAMPLE_PROBLEMS["json_too_deep"]) from None
        text = json_dumps_checked(claims)
    try:
        data = json_read(text, max_bytes=SAMPLE_MAX * 4, max_depth=SAMPLE_MAX_DEPTH)
    except InputError as error:
        raise forms.ValidationError(
            SAMPLE_PROBLEMS.get(
                error.code, "Paste a JWT (header.payload.signature) or a JSON object."
            )
        ) from None
    if not isinstance(data, dict):
        raise forms.ValidationError("The JSON must be an object of claims or attributes.")
    return data


def json_dumps_checked(claims: Any) -> str:
    """Return decoded JWT claims as JSON text, so they meet the same reader's checks."""
    try:
        return json.dumps(claims, ensure_ascii=True)
    except (ValueError, RecursionError):
        raise forms.ValidationError(SAMPLE_PROBLEMS["json_too_deep"]) from None


class TryItForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.VISITOR)
    protocol = forms.ChoiceField(choices=MAPPED_PROTOCOLS, initial=Protocol.JWT)
    sample = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90, "spellcheck": "false"}),
        max_length=SAMPLE_MAX,
        help_text=(
            "A sample JWT, decoded WITHOUT verifying its signature, or a JSON object: "
            'claims for JWT, attribute name -> list of values for SAML (e.g. {"mail": '
            '["ann@example.com"]}). Nothing is signed in or stored.'
        ),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]

    def clean_sample(self) -> dict[str, Any]:
        return sample_decode(self.cleaned_data["sample"])

    def run(
        self, *, rules: tuple[Rule, ...] | None = None
    ) -> tuple[dict[str, Any], MappingResult, int]:
        """Return the decoded sample, the engine's result and the number of rules.

        ``rules`` defaults to the site's saved rules for the chosen audience
        and protocol.
        """
        data = self.cleaned_data
        if rules is None:
            rules = rules_load(site=data["site"]).get((data["audience"], data["protocol"]), ())
        return (
            data["sample"],
            mapping_run(rules, protocol=data["protocol"], claims=data["sample"]),
            len(rules),
        )
