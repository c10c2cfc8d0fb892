"""Say in one line which service the tests need is unreachable, and exit 1."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

DEFAULTS = {
    "PostgreSQL": ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sso_site", 5432),
    "Redis": ("REDIS_URL", "redis://127.0.0.1:6379/15", 6379),
}


def main() -> int:
    for name, (variable, default, port) in DEFAULTS.items():
        url = urlsplit(os.environ.get(variable, default))
        host, port = url.hostname or "127.0.0.1", url.port or port
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as error:
            print(
                f"{name} is unreachable at {host}:{port} ({error.strerror or error}); "
                f"start it or point {variable} at one.",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
