"""Benchmarks shipped with the project: ``make bench`` runs them all.

They keep database connections open between requests, as production does
(``CONN_MAX_AGE`` > 0); reconnecting would dominate every figure.
"""

import os

os.environ.setdefault("CONN_MAX_AGE", "60")
