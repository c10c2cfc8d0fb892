"""More than one machine: two app instances (two gunicorn processes) share
PostgreSQL and Redis. A SAML sign-in started on one completes on the other,
and the same assertion replayed to the first is refused.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from saml2 import BINDING_HTTP_REDIRECT

from devidp.idp import MFA_CONTEXT
from devidp.saml_kit import idp_create, saml_settings_create
from sso.saml.models import SamlSettings
from sso_site.signin.refusals import RefusalReason
from tenants.models import LoginEvent
from tests.factories import AgentFactory, SiteFactory
from tests.ops.servers import gunicorn, server_env

pytestmark = pytest.mark.slow

HOST = "sso.test"  # both instances sit behind one name, as behind one proxy


def reason_on_page(text: str) -> str:
    marker = 'id="reason-code">'
    start = text.index(marker) + len(marker)
    return text[start : text.index("<", start)]


def test_a_saml_sign_in_started_on_one_instance_completes_on_the_other(
    transactional_db: None, tmp_path: Path
) -> None:
    site = SiteFactory.create(site_id=10001, name="Site A")
    AgentFactory.create(site=site, email="alice@a.example")
    idp = idp_create(tmp_path, "idp-a")
    saml_settings_create(site, idp, allow_idp_initiated=True)
    env = server_env()
    base = f"http://{HOST}/sso/{site.site_id}/agent/saml"
    with gunicorn(env, workers=1) as one, gunicorn(env, workers=1) as two:
        browser = requests.Session()
        browser.headers["Host"] = HOST
        start = browser.get(f"{one}/sso/{site.site_id}/agent/login/", allow_redirects=False)
        assert start.status_code == 302
        assert start.headers["Location"].startswith(idp.sso_url)
        saml_request = parse_qs(urlsplit(start.headers["Location"]).query)["SAMLRequest"][0]
        request_id = idp.server([]).parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        metadata = requests.get(
            f"{two}/sso/{site.site_id}/agent/saml/metadata/", headers={"Host": HOST}, timeout=10
        )
        assert metadata.status_code == 200

        def answer_for(in_response_to: str | None) -> str:
            xml = idp.authn_response(
                idp.server([metadata.text]),
                sp_entity_id=f"{base}/metadata/",
                acs_url=f"{base}/acs/",
                email="alice@a.example",
                in_response_to=in_response_to,
                authn_context=MFA_CONTEXT,
                attributes=None,
                sign_assertion=True,
            )
            return base64.b64encode(xml.encode()).decode()

        answer = answer_for(str(request_id.message.id))

        done = browser.post(
            f"{two}/sso/{site.site_id}/agent/saml/acs/",
            data={"SAMLResponse": answer},
            allow_redirects=False,
        )
        assert done.status_code == 302, done.text[:500]
        assert "/console/" in done.headers["Location"]
        # Signed in on both instances: the session lives in PostgreSQL.
        for instance in (one, two):
            console = browser.get(f"{instance}/console/", allow_redirects=False)
            assert console.status_code == 200
            assert "alice@a.example" in console.text

        # The answer again, to the first instance: its request was used up.
        again = browser.post(
            f"{one}/sso/{site.site_id}/agent/saml/acs/",
            data={"SAMLResponse": answer},
            allow_redirects=False,
        )
        assert again.status_code == 403
        assert reason_on_page(again.text) == RefusalReason.SAML_IN_RESPONSE_TO

        # An IdP-initiated assertion used on the second instance, then replayed
        # from another browser to the first: the shared replay store refuses it.
        unsolicited = answer_for(None)
        used = requests.post(
            f"{two}/sso/{site.site_id}/agent/saml/acs/",
            data={"SAMLResponse": unsolicited},
            headers={"Host": HOST},
            allow_redirects=False,
            timeout=10,
        )
        assert used.status_code == 302
        thief = requests.Session()
        thief.headers["Host"] = HOST
        replay = thief.post(
            f"{one}/sso/{site.site_id}/agent/saml/acs/",
            data={"SAMLResponse": unsolicited},
            allow_redirects=False,
        )
        assert replay.status_code == 403
        assert reason_on_page(replay.text) == RefusalReason.REPLAY
        assert "sessionid" not in replay.cookies
        assert LoginEvent.objects.filter(site=site, reason=RefusalReason.REPLAY).count() == 1
        assert LoginEvent.objects.filter(site=site, outcome="success").count() == 2
    assert SamlSettings.objects.filter(site=site).exists()
