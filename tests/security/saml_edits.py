"""Edits of a real IdP response for the strict-profile attack table.

Each edit takes the response XML and returns it changed; ``ASSERTION`` edits
touch the signed assertion, so the table has the IdP sign it again (what an
IdP that really issued these contents would send). Response edits touch the
unsigned Response around it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.etree

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
Edit = Callable[[str], str]


def stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def on_root(change: Callable[[Any], None]) -> Edit:
    """Return an edit applying ``change`` to the Response element."""

    def edit(xml: str) -> str:
        root = lxml.etree.fromstring(xml.encode())
        change(root)
        return lxml.etree.tostring(root).decode()

    return edit


def on_assertion(change: Callable[[Any], None]) -> Edit:
    """Return an edit applying ``change`` to the (first) Assertion."""
    return on_root(lambda root: change(root.find(f"{{{SAML_NS}}}Assertion")))


def _q(path: str) -> str:
    """'Subject/NameID' -> the namespaced path in the assertion namespace."""
    return "/".join(f"{{{SAML_NS}}}{part}" for part in path.split("/"))


def remove(path: str) -> Edit:
    def change(assertion: Any) -> None:
        for node in assertion.findall(_q(path)):
            node.getparent().remove(node)

    return on_assertion(change)


def set_attr(path: str, name: str, value: str | None) -> Edit:
    """Set (or, with None, delete) attribute ``name`` of ``path`` in the assertion."""

    def change(assertion: Any) -> None:
        node = assertion if path == "." else assertion.find(_q(path))
        if value is None:
            node.attrib.pop(name, None)
        else:
            node.set(name, value)

    return on_assertion(change)


def set_root_attr(name: str, value: str | None) -> Edit:
    def change(root: Any) -> None:
        if value is None:
            root.attrib.pop(name, None)
        else:
            root.set(name, value)

    return on_root(change)


def response_issuer(text: str | None = None, fmt: str | None = None) -> Edit:
    def change(root: Any) -> None:
        issuer = root.find(f"{{{SAML_NS}}}Issuer")
        if text is not None:
            issuer.text = text
        if fmt is not None:
            issuer.set("Format", fmt)

    return on_root(change)


def two_assertions(xml: str) -> str:
    def change(root: Any) -> None:
        assertion = root.find(f"{{{SAML_NS}}}Assertion")
        copy = lxml.etree.fromstring(lxml.etree.tostring(assertion))
        copy.set("ID", "_second" + assertion.get("ID"))
        root.append(copy)

    return on_root(change)(xml)


def no_assertion(xml: str) -> str:
    def change(root: Any) -> None:
        root.remove(root.find(f"{{{SAML_NS}}}Assertion"))

    return on_root(change)(xml)


def unknown_element(xml: str) -> str:
    """An element the SAML schema does not allow inside an Assertion."""

    def change(assertion: Any) -> None:
        subject = assertion.find(_q("Subject"))
        subject.addnext(lxml.etree.Element(f"{{{SAML_NS}}}Bogus"))

    return on_assertion(change)(xml)


def name_id_removed(xml: str) -> str:
    return remove("Subject/NameID")(xml)
