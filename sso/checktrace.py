"""A record of the checks a verification passed, for the troubleshooting
console's dry run.

Sign-in code calls ``check_passed(name, **values)`` after each check; it
does nothing unless a ``CheckTrace`` is active (``with CheckTrace() as
trace:``), so the sign-in path behaves exactly as without it. Values are
short, non-secret descriptions (never keys, tokens or personal data).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

_ACTIVE: contextvars.ContextVar[CheckTrace | None] = contextvars.ContextVar(
    "sso_check_trace", default=None
)


@dataclass
class CheckTrace:
    """The checks passed, in order: ``(name, values)``."""

    passed: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _token: contextvars.Token[CheckTrace | None] | None = None

    def __enter__(self) -> CheckTrace:
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)


def check_passed(name: str, **values: Any) -> None:
    """Note that check ``name`` passed (only while a trace is active)."""
    trace = _ACTIVE.get()
    if trace is not None:
        trace.passed.append((name, {k: str(v)[:200] for k, v in values.items()}))
