"""Run every benchmark module of this package in turn."""

from __future__ import annotations

import pkgutil
import runpy
from pathlib import Path

for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)])):
    if not module.name.startswith("_"):
        print(f"== bench.{module.name}")
        runpy.run_module(f"bench.{module.name}", run_name="__main__")
