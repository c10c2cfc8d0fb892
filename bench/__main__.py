"""Run every benchmark module of this package: ``python -m bench``."""

from __future__ import annotations

import pkgutil
import runpy
from pathlib import Path

for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
    if not module.startswith("_"):
        print(f"== bench.{module}")
        runpy.run_module(f"bench.{module}", run_name="__main__")
