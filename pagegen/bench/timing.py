"""How the suites summarize a list of timings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    p95: float
    max: float


def spread(values: list[float]) -> Spread:
    """Median, 95th percentile and maximum, to a tenth."""
    return Spread(
        median=round(statistics.median(values), 1),
        p95=round(statistics.quantiles(values, n=20, method="inclusive")[-1], 1),
        max=round(max(values), 1),
    )
