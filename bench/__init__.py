"""Benchmarks: plain scripts, ``python -m bench.<name>``; ``python -m bench`` runs all."""
