"""Benchmarks of the speed targets, one module per suite: the targets live here, not in timed tests.

Nothing in the library imports this package; ``pagegen bench`` does, when it runs.
"""

from pagegen.bench.report import BenchReport, format_bench, run_bench

__all__ = ["BenchReport", "format_bench", "run_bench"]
