"""The evaluation protocols: leave-last-out with full ranking, and cold start among new items.

Leave-last-out: generators fit on the train split (validation items tune them); test scores use
each user's train + validation history, exclude every item in it, and rank the held-out test item
against every other catalogue item — no sampled negatives.
Cold start: generators fit without the newest items; for each user who later interacted with some
of them, the new items alone are ranked and Recall@k counts how many of the user's are found.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.data.split import cold_start, leave_last_out
from pagegen.data.store import Dataset
from pagegen.evaluation.metrics import (
    catalog_coverage,
    mrr_at_k,
    ndcg_at_k,
    popularity_percentiles,
    recall_at_k,
    set_recall_at_k,
)
from pagegen.evaluation.ranking import hide_seen, target_ranks, top_k
from pagegen.generators.base import Generator, Validation
from pagegen.generators.training import TrainingData, build_training_data

LEAVE_LAST_OUT = "leave-last-out"
BATCH_USERS = 512


@dataclass(frozen=True)
class Experiment:
    """A split made ready for generators: what to fit on, tune on, and test on."""

    train: TrainingData
    serving: TrainingData  # train + validation: each user's history when the test item is next
    validation: Validation
    test: Validation

    def held_out_item(self, user_id: int) -> int | None:
        """The item id the user watched next (their test item), or None for users without one."""
        users = self.test.users if self.test.users is not None else np.zeros(0, dtype=np.int64)
        row = int(np.searchsorted(users, user_id))
        if row == len(users) or users[row] != user_id:
            return None
        return int(self.serving.item_ids[self.test.targets[row]])


@dataclass(frozen=True)
class ColdStartExperiment:
    train: TrainingData
    validation: Validation
    histories: list[np.ndarray]
    targets: list[np.ndarray]  # each test user's new items (dense indices)
    cold_items: np.ndarray  # dense indices of every held-out new item


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


def leave_last_out_experiment(dataset: Dataset) -> Experiment:
    split = leave_last_out(dataset.interactions)
    train = build_training_data(dataset, split.train, split=LEAVE_LAST_OUT)
    with_validation = build_training_data(dataset, pl.concat([split.train, split.validation]), split=LEAVE_LAST_OUT)
    return Experiment(
        train=train,
        serving=with_validation,
        validation=_held_out(train, split.validation),
        test=_held_out(with_validation, split.test),
    )


def cold_start_experiment(dataset: Dataset, *, fraction: float = 0.1) -> ColdStartExperiment:
    """Fit on the warm items; each user's last warm interaction is the validation item (for λ and
    early stopping), and the whole warm history is the user's profile when the new items are ranked."""
    split = cold_start(dataset.interactions, fraction=fraction)
    name = f"cold-start-{fraction:g}"
    warm = leave_last_out(split.train)
    train = build_training_data(dataset, pl.concat([warm.train, warm.validation]), split=name)
    serving = build_training_data(dataset, split.train, split=name)
    grouped = split.test.group_by(S.USER_ID).agg(pl.col(S.ITEM_ID).unique()).sort(S.USER_ID)
    histories = [serving.history(int(user)) for user in grouped[S.USER_ID].to_list()]
    targets = [serving.item_indices(items) for items in grouped[S.ITEM_ID].to_list()]
    return ColdStartExperiment(
        train=train,
        validation=_held_out(train, warm.test),
        histories=histories,
        targets=targets,
        cold_items=serving.item_indices(split.cold_items.to_list()),
    )


def _held_out(history_source: TrainingData, held_out: pl.DataFrame) -> Validation:
    ordered = held_out.sort(S.USER_ID)
    histories = [history_source.history(int(user)) for user in ordered[S.USER_ID].to_list()]
    return Validation(
        histories=histories,
        targets=history_source.item_indices(ordered[S.ITEM_ID].to_list()),
        users=ordered[S.USER_ID].to_numpy().astype(np.int64),
    )


def evaluate_ranking(
    generator: Generator, held_out: Validation, *, ks: tuple[int, ...] = (10, 20)
) -> tuple[dict[str, float], float]:
    """Full-ranking metrics of ``generator`` on ``held_out``, and the seconds spent scoring."""
    data = generator.data
    ranks, tops = [], []
    started = time.perf_counter()
    for start in range(0, len(held_out.histories), BATCH_USERS):
        histories = held_out.histories[start : start + BATCH_USERS]
        scores = hide_seen(generator.score_histories(histories), histories)
        ranks.append(target_ranks(scores, held_out.targets[start : start + BATCH_USERS]))
        tops.append(top_k(scores, max(ks)))
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
