"""A SAML sign-in writes one session row: the session binding, which also
holds the NameID and SessionIndex single logout needs. The SAML session
(djangosaml2's cookie ``saml_session``) holds only the outstanding requests.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.test import Client

from devidp.idp import DevIdp
from sso.saml.models import SamlSettings
from sso_site.signin.keys import session_key_for
from tenants.models import Agent, Audience, Site
from tests.fixtures.saml import ResponseFactory, acs_post, sign_in_start


def test_idp_initiated_sign_in_writes_one_session_row(
    client: Client, saml_site: Site, agent: Agent, saml_response_factory: ResponseFactory
) -> None:
    SamlSettings.objects.filter(site=saml_site).update(allow_idp_initiated=True)
    saml_response = saml_response_factory(saml_site, in_response_to=None)
    Session.objects.all().delete()

    response = acs_post(client, saml_site, saml_response)

    assert response.status_code == 302
    assert "saml_session" not in response.cookies
    assert Session.objects.count() == 1
    binding = client.session[session_key_for(Audience.AGENT)]
    assert binding["logout"]["session_index"]
    assert binding["logout"]["name_id"]


def test_sp_initiated_sign_in_adds_one_session_row(
    client: Client,
    saml_site: Site,
    agent: Agent,
    idp_a: DevIdp,
    saml_response_factory: ResponseFactory,
) -> None:
    request_id = sign_in_start(client, saml_site, idp_a)
    saml_response = saml_response_factory(saml_site, in_response_to=request_id)
    before = set(Session.objects.values_list("session_key", flat=True))

    response = acs_post(client, saml_site, saml_response)

    assert response.status_code == 302
    added = set(Session.objects.values_list("session_key", flat=True)) - before
    assert added == {client.session.session_key}
    saml_state = Session.objects.get(session_key=client.cookies["saml_session"].value)
    decoded = saml_state.get_decoded()
    assert request_id not in decoded[f"sso_saml:{saml_site.pk}:agent"]["authn"]  # used up
    assert "subject" not in decoded[f"sso_saml:{saml_site.pk}:agent"]
    assert not [key for key in decoded if key.startswith("_saml2")]  # no identity cache
