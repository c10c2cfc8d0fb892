"""'Test connection': a real round trip through the IdP ends on the result
page, signs nobody in and writes no audit row; only its operator sees it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.urls import reverse
from saml2 import BINDING_HTTP_REDIRECT

from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, LoginEvent, Site
from tests.fixtures.jwt import callback_url
from tests.fixtures.saml import ResponseFactory, acs_post


def test_saml_round_trip_ends_on_the_result_page(
    op_client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: Any,
    saml_response_factory: ResponseFactory,
) -> None:
    start = op_client.get(reverse("troubleshoot:test-start", args=[saml_site.pk, "agent", "saml"]))
    assert start.status_code == 302
    saml_request = parse_qs(urlsplit(start["Location"]).query)["SAMLRequest"][0]
    request_id = (
        idp_a.server([]).parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message.id
    )
    saml_response = saml_response_factory(saml_site, in_response_to=str(request_id))

    answer = acs_post(op_client, saml_site, saml_response)

    assert answer.status_code == 302
    assert "/admin/troubleshoot/test/" in answer["Location"]
    assert session_key_for(Audience.AGENT) not in op_client.session
    assert not LoginEvent.objects.exists()
    result = op_client.get(answer["Location"])
    assert result.status_code == 200
    assert result.context["report"].ok
    assert "signature" in [s.name for s in result.context["report"].steps]
    # Another operator (or nobody) cannot read it.
    assert Client().get(answer["Location"]).status_code == 302


def test_jwt_round_trip_reports_the_failed_check(
    op_client: Client, site: Site, jwt_agent: Agent, jwt_configure: Any, jwt_factory: Any
) -> None:
    jwt_configure(site)
    start = op_client.get(reverse("troubleshoot:test-start", args=[site.pk, "agent", "jwt"]))
    callback = parse_qs(urlsplit(start["Location"]).query)["return_to"][0]
    assert callback.startswith("http://testserver" + callback_url(site))
    token = jwt_factory(site, email=jwt_agent.email, aud="another")

    answer = op_client.post(callback, {"jwt": token})  # the query keeps the flag

    assert answer.status_code == 302
    assert session_key_for(Audience.AGENT) not in op_client.session
    assert not LoginEvent.objects.exists()
    report = op_client.get(answer["Location"]).context["report"]
    assert (report.reason, report.failed_check) == ("jwt_wrong_audience", "signature_and_times")
