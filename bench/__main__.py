"""Run every benchmark module in this package (``python -m bench``).

Each runs in its own process: they set up Django and databases each their
own way, and one must not see another's state.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    # Modules only: a package here (``floor``) is an app a benchmark serves.
    modules = pkgutil.iter_modules([str(here)])
    names = sorted(m.name for m in modules if not m.name.startswith("_") and not m.ispkg)
    failed = 0
    for name in names:
        print(f"== bench.{name}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)  # noqa: S603
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
