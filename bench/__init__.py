"""Benchmarks shipped with the project: ``make bench`` runs them all."""
