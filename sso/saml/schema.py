"""The SAML 2.0 XML schema, compiled once per process for libxml2.

pysaml2 validates every signed element against these same schema files
(the ones it ships) with the pure-Python ``xmlschema`` package: 6-7 ms for
one response. libxml2 validates the same element in about 0.1 ms. The
schema files are read from pysaml2's package only; a reference to the W3C
copy of a schema resolves to the local file, never to the network.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from typing import Any

import lxml.etree
import saml2.data.schemas

_ROOT_SCHEMA = "saml-schema-protocol-2.0.xsd"
# Namespaces a SAML response may use beyond what the protocol schema
# imports itself: XML Encryption 1.1 (e.g. the MGF of RSA-OAEP).
_EXTRA_IMPORTS = {"http://www.w3.org/2009/xmlenc11#": "xenc-schema-11.xsd"}
_lock = threading.Lock()
_schema: lxml.etree.XMLSchema | None = None


class _LocalSchemas(lxml.etree.Resolver):  # type: ignore[misc]
    """Resolve every schema location to the file of that name in pysaml2."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        name = system_url.rsplit("/", 1)[-1]
        path = files(saml2.data.schemas).joinpath(name)
        if not name.endswith(".xsd") or not path.is_file():
            return None
        return self.resolve_filename(str(path), context)


def _build() -> lxml.etree.XMLSchema:
    folder = files(saml2.data.schemas)
    parser = lxml.etree.XMLParser(no_network=True, load_dtd=False)
    parser.resolvers.add(_LocalSchemas())
    document = lxml.etree.parse(str(folder.joinpath(_ROOT_SCHEMA)), parser)
    for namespace, name in _EXTRA_IMPORTS.items():
        document.getroot().insert(
            0,
            lxml.etree.Element(
                "{http://www.w3.org/2001/XMLSchema}import",
                namespace=namespace,
                schemaLocation=str(folder.joinpath(name)),
            ),
        )
    return lxml.etree.XMLSchema(document)


def schema_error(element: Any) -> str | None:
    """Return why ``element`` (lxml, with its subtree) is not valid SAML,
    or None when it is. Only ``element``'s subtree is validated, as pysaml2
    validates each signed element on its own.
    """
    global _schema
    with _lock:  # an XMLSchema object is not safe to share between threads
        if _schema is None:
            _schema = _build()
        if _schema.validate(element):
            return None
        error = _schema.error_log.last_error
        return str(error.type_name if error is not None else "invalid")
