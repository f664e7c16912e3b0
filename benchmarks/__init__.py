"""Benchmarks of mensi_sim: ``python -m benchmarks.run`` (see benchmarks/README.md)."""
