"""Django's PostgreSQL backend with a client-side deadline on every query.

``statement_timeout`` makes the server give up on a slow query, and
``connect_timeout`` bounds opening a connection, but neither helps when the
server (or a proxy in front of it) stops answering on an open connection:
the client then waits on its socket forever and the whole worker hangs. A
watchdog thread closes the socket of a query that outlives
``SSO_DB_CLIENT_TIMEOUT`` seconds, so the query fails with an
``OperationalError`` (a 503 page) and the next request reconnects.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)


class _Watchdog:
    """One thread per process; it shuts down sockets whose deadline passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[int, tuple[float, int]] = {}
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guard(self, fileno: int, seconds: float) -> Iterator[None]:
        token = id(threading.current_thread())
        with self._lock:
            self._inflight[token] = (time.monotonic() + seconds, fileno)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._inflight.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                for token, (deadline, fileno) in list(self._inflight.items()):
                    if deadline <= now:
                        del self._inflight[token]
                        _shutdown(fileno)


def _shutdown(fileno: int) -> None:
    logger.warning("database: query exceeded its client-side deadline, closing its connection")
    try:
        dup = os.dup(fileno)
    except OSError:
        return
    sock = socket.socket(fileno=dup)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


_watchdog = _Watchdog()


def _timeout() -> float:
    return float(getattr(settings, "SSO_DB_CLIENT_TIMEOUT", 10.0))


class DatabaseWrapper(base.DatabaseWrapper):
    """Every query and every health check runs under the watchdog."""

    def _guarded(self) -> contextlib.AbstractContextManager[None]:
        seconds = _timeout()
        if seconds <= 0:  # turned off (e.g. for migrations)
            return contextlib.nullcontext()
        try:
            fileno = self.connection.fileno()
        except Exception:  # no open connection: nothing to guard
            return contextlib.nullcontext()
        return _watchdog.guard(fileno, seconds)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._execute_guard)

    def _execute_guard(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        with self._guarded():
            return execute(sql, params, many, context)

    def is_usable(self) -> bool:
        with self._guarded():
            return bool(super().is_usable())
