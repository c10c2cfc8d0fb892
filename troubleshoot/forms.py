from __future__ import annotations

from django import forms

from tenants.models import Audience, Protocol
from troubleshoot.dryrun import INPUT_MAX

UPLOAD_MAX = 512 * 1024


class ConsoleForm(forms.Form):
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.AGENT)
    protocol = forms.ChoiceField(
        choices=[(Protocol.SAML, "SAML response"), (Protocol.JWT, "JWT")], initial=Protocol.SAML
    )
    text = forms.CharField(
        label="SAML response (base64 or XML) or JWT",
        required=False,
        max_length=INPUT_MAX,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 100, "spellcheck": "false"}),
    )
    upload = forms.FileField(label="or upload a file", required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        upload = data.get("upload")
        if upload is not None:
            if upload.size > UPLOAD_MAX:
                raise forms.ValidationError("The file is too large.")
            raw = upload.read(UPLOAD_MAX)
            try:
                data["text"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "The file is not text (base64, XML or a JWT)."
                ) from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste a SAML response or a JWT, or upload one.")
        return data
