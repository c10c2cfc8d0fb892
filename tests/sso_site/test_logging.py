"""No personal data from the SAML libraries' loggers: their records are
stripped to static text (the refusal table checks real refusals, with the
libraries' loggers at DEBUG).
"""

from __future__ import annotations

import logging

import pytest

from sso_site.logfilters import WITHHELD, library_logger_names

XML = '<saml:NameID Format="email">alice@a.example</saml:NameID>'


@pytest.mark.parametrize("name", ["saml2.response", "saml2.entity", "djangosaml2.views"])
def test_library_records_keep_no_personal_data(caplog: pytest.LogCaptureFixture, name: str) -> None:
    log = logging.getLogger(name)
    with caplog.at_level(logging.DEBUG, logger=name):
        log.debug("XMLSTR: %s", XML)
        log.info("Subject NameID: %s", XML)
        log.error(f"Signature Error: {XML}")
        try:
            raise ValueError(XML)
        except ValueError:
            log.exception("verify")

    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["Subject NameID: %s", WITHHELD, "verify"]
    assert "alice@a.example" not in caplog.text
    assert "NameID Format" not in caplog.text


def test_every_module_logger_of_the_libraries_is_covered() -> None:
    names = library_logger_names()
    for name in (
        "saml2",
        "saml2.response",
        "saml2.sigver",
        "saml2.xml.schema",
        "djangosaml2.views",
    ):
        assert name in names
        assert logging.getLogger(name).filters, name
