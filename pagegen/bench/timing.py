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
    """Median, 95th percentile and maximum, to a tenth (one value is all three)."""
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    return Spread(
        median=round(statistics.median(values), 1),
        p95=round(p95, 1),
        max=round(max(values), 1),
    )
