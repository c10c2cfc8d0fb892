"""drf-spectacular is installed: the API's OpenAPI schema builds and validates."""

from __future__ import annotations

import io

import yaml
from django.core.management import call_command


def test_the_openapi_schema_builds_and_validates() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
