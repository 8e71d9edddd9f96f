"""The generators suite: fitting every generator, and scoring one user with all of them."""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pagegen.data.sources import DEFAULT_DATASET


@dataclass(frozen=True)
class GeneratorsBench:
    KEY: ClassVar[str] = "generators"
    TARGET_SCORE_ONE_USER_MS: ClassVar[int] = 20

    dataset: str
    generators: tuple[str, ...]
    fit: dict[str, dict[str, Any]]  # generator → its saved manifest's metrics (fit seconds, chosen parameters)
    ease_single_fit_seconds: dict[str, float]  # min, median of five fits at the chosen λ
    score_one_user_ms: dict[str, float]  # median, p95, users

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "target_score_one_user_ms": self.TARGET_SCORE_ONE_USER_MS}

    def text(self) -> str:
        fits = ", ".join(f"{name} {fit.get('fit_seconds', 0):.2f} s" for name, fit in self.fit.items())
        latency = self.score_one_user_ms
        return (
            f"fit on {self.dataset}: {fits}\n"
            f"score one user with all generators: median {latency['median']} ms, p95 {latency['p95']} ms "
            f"(target ≤ {self.TARGET_SCORE_ONE_USER_MS} ms)"
        )


def bench_generators(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, users: int = 200, seed: int = 0, progress: bool = False
) -> GeneratorsBench:
    """Fit (or load) every generator, then time scoring one user with all of them; ``progress``: what
    is trained and why, with bars, on stderr."""
    from pagegen.data import load_dataset
    from pagegen.generators import EASE, GENERATORS, artifacts
    from pagegen.generators.experiments import leave_last_out_experiment
    from pagegen.seeding import as_generator

    experiment = leave_last_out_experiment(load_dataset(dataset, data_dir))
    models, fits = [], {}
    for cls in GENERATORS.values():
        generator, manifest = artifacts.load_or_train(
            cls, data_dir, experiment.train, validation=experiment.validation, progress=progress
        )
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
    return GeneratorsBench(
        dataset=dataset,
        generators=tuple(g.name for g in models),
        fit=fits,
        ease_single_fit_seconds={
            "min": round(min(ease_single_fit), 4),
            "median": round(statistics.median(ease_single_fit), 4),
        },
        score_one_user_ms={
            "median": round(statistics.median(latencies), 2),
            "p95": round(statistics.quantiles(latencies, n=20)[-1], 2),
            "users": len(latencies),
        },
    )
