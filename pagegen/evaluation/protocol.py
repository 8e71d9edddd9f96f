"""The evaluation protocols: leave-last-out with full ranking, and cold start among new items.

Leave-last-out: generators fit on the train split (validation items tune them); test scores use
each user's train + validation history, exclude every item in it, and rank the held-out test item
against every other catalogue item — no sampled negatives.
Cold start: generators fit without the newest items; for each user who later interacted with some
of them, the new items alone are ranked and Recall@k counts how many of the user's are found.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from pagegen.evaluation.reports import load_typed_report, save_report
from pagegen.generators.base import Generator, Validation
from pagegen.generators.experiments import ColdStartExperiment
from pagegen.ranker import Ranker
from pagegen.ranking import (
    calibration_error,
    catalog_coverage,
    hide_seen,
    mrr_at_k,
    ndcg_at_k,
    popularity_percentiles,
    recall_at_k,
    set_recall_at_k,
    target_ranks,
    top_k,
)

BATCH_USERS = 512


@dataclass(frozen=True)
class EvaluationReport:
    model: str
    dataset: str
    split: str
    users: int
    metrics: dict[str, float]
    fit_seconds: float
    score_seconds: float
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> EvaluationReport:
        """A saved report read back; a missing field is a TypeError (the saved report is of another shape)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in payload.items() if key in known})


GENERATORS_REPORT = "generators"  # the saved name of ``pagegen evaluate --model all``'s reports


def save_evaluation(data_dir: Path, dataset: str, reports: Sequence[EvaluationReport]) -> None:
    """Keep the generators' evaluation for the dashboard's Insights table."""
    save_report(data_dir, dataset, GENERATORS_REPORT, evaluation_payload(reports))


def evaluation_payload(reports: Sequence[EvaluationReport]) -> dict[str, Any]:
    """The JSON form the CLI prints and Insights reads back."""
    return {"reports": [report.to_dict() for report in reports]}


def load_evaluation(data_dir: Path, dataset: str) -> tuple[EvaluationReport, ...] | None:
    """The saved generators' evaluation of ``dataset``, or None when there is none or it is of another shape."""
    return load_typed_report(
        data_dir, dataset, GENERATORS_REPORT, lambda p: tuple(EvaluationReport.from_dict(r) for r in p["reports"])
    )


def format_evaluation(reports: Sequence[EvaluationReport]) -> str:
    """The reports as a table, one row per model: its metrics, fit and scoring seconds."""
    columns = list(reports[0].metrics) if reports else []
    header = (
        f"{'model':<12}" + "".join(f"{c:>26}"[-max(len(c) + 2, 10) :] for c in columns) + f"{'fit s':>9}{'score s':>9}"
    )
    lines = [
        f"{reports[0].dataset if reports else ''} · {reports[0].split if reports else ''} · {reports[0].users if reports else 0} users",
        header,
    ]
    for r in reports:
        cells = "".join(f"{r.metrics[c]:.4f}".rjust(max(len(c) + 2, 10)) for c in columns)
        lines.append(f"{r.model:<12}{cells}{r.fit_seconds:>9.2f}{r.score_seconds:>9.3f}")
    return "\n".join(lines)


def evaluate_ranking(
    generator: Generator | Ranker, held_out: Validation, *, ks: tuple[int, ...] = (10, 20)
) -> tuple[dict[str, float], float]:
    """Full-ranking metrics of ``generator`` on ``held_out``, and the seconds spent scoring. For the
    calibrated ranker (whose scores are log-probabilities) also how well its probabilities match what
    happened among each user's top ``max(ks)``: the expected calibration error, and the predicted number
    of held-out items there against the observed (recall)."""
    data = generator.data
    ranks, tops, predicted = [], [], []
    started = time.perf_counter()
    for start in range(0, len(held_out.histories), BATCH_USERS):
        histories = held_out.histories[start : start + BATCH_USERS]
        scores = hide_seen(generator.score_histories(histories), histories)
        ranks.append(target_ranks(scores, held_out.targets[start : start + BATCH_USERS]))
        tops.append(top_k(scores, max(ks)))
        if isinstance(generator, Ranker):
            predicted.append(np.exp(np.take_along_axis(scores, tops[-1], axis=1)))
    seconds = time.perf_counter() - started
    rank = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    top = np.concatenate(tops) if tops else np.zeros((0, max(ks)), dtype=np.int64)
    percentile = popularity_percentiles(data.item_counts)
    metrics: dict[str, float] = {}
    for k in ks:
        metrics[f"recall@{k}"] = recall_at_k(rank, k)
        metrics[f"ndcg@{k}"] = ndcg_at_k(rank, k)
    metrics["mrr@10"] = mrr_at_k(rank, 10)
    metrics["coverage@10"] = catalog_coverage(top[:, :10], data.n_items)
    metrics["popularity_percentile@10"] = float(percentile[top[:, :10]].mean()) if len(top) else 0.0
    if predicted:
        k = max(ks)
        probabilities = np.concatenate(predicted)
        hits = top == held_out.targets[:, None]
        metrics[f"calibration_error@{k}"] = calibration_error(probabilities.ravel(), hits.ravel().astype(float))
        metrics[f"predicted_hits@{k}"] = float(probabilities.sum(axis=1).mean())
    return {key: round(value, 5) for key, value in metrics.items()}, seconds


def evaluate_cold_start(
    generator: Generator, experiment: ColdStartExperiment, *, ks: tuple[int, ...] = (10, 20)
) -> tuple[dict[str, float], float]:
    """Recall@k among the new items only, for the users who later interacted with them."""
    position = {int(item): local for local, item in enumerate(experiment.cold_items)}
    recalls: dict[int, list[float]] = {k: [] for k in ks}
    started = time.perf_counter()
    for start in range(0, len(experiment.histories), BATCH_USERS):
        scores = generator.score_histories(experiment.histories[start : start + BATCH_USERS])[:, experiment.cold_items]
        for row, targets in enumerate(experiment.targets[start : start + BATCH_USERS]):
            local = np.array([position[int(t)] for t in targets])
            for k in ks:
                recalls[k].append(set_recall_at_k(scores[row], local, k))
    seconds = time.perf_counter() - started
    metrics = {f"cold_recall@{k}": round(float(np.mean(values)) if values else 0.0, 5) for k, values in recalls.items()}
    return metrics, seconds
