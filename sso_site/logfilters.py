"""Keep personal data out of the logs of the SAML libraries.

pysaml2 and djangosaml2 log whole messages (assertions with names and
emails), NameIDs and exception texts that embed the document, at DEBUG but
also at INFO and ERROR on the refusal path. ``LibraryLogRedactor`` is set on
each of their module loggers (a logger's filters see only the records of that
logger, so every module is listed: ``library_logger_names``); it drops their
DEBUG records, and keeps the others without their arguments, exception text
or anything that looks like XML or an email address. Our own code logs one
line per refusal: the reason code and a reference (``render_refusal``).
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path

LIBRARIES = ("saml2", "djangosaml2")
WITHHELD = "(message withheld: it may hold personal data)"
_SAFE = re.compile(r"[A-Za-z0-9 _.,:;!?()'\-/=%]{0,160}")


class LibraryLogRedactor(logging.Filter):
    """Drop DEBUG records; strip the rest to their static text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return False
        message = str(record.msg) if record.args else record.getMessage()
        if not _SAFE.fullmatch(message) or "@" in message:
            message = WITHHELD
        record.msg, record.args = message, ()
        # Tracebacks quote the exception, and pysaml2's quote the document.
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def library_logger_names(libraries: tuple[str, ...] = LIBRARIES) -> list[str]:
    """Return the logger name of every module of ``libraries`` (found on
    disk, nothing imported), each library's own name first.
    """
    names: list[str] = []
    for library in libraries:
        spec = importlib.util.find_spec(library)
        if spec is None or not spec.submodule_search_locations:
            continue
        names.append(library)
        for location in spec.submodule_search_locations:
            root = Path(location)
            for path in sorted(root.rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                if parts and all(part.isidentifier() for part in parts):
                    names.append(".".join((library, *parts)))
    return names
