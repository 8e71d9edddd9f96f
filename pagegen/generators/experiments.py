"""Splits made ready for generators: what to fit on, tune on, and test on.

Leave-last-out serves the page (each user's train + validation history, the test item next) and
evaluation alike; cold start holds the newest items out. Below rows, serving and evaluation, which
all build on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.data.split import cold_start, leave_last_out
from pagegen.data.store import Dataset
from pagegen.generators.base import Validation
from pagegen.generators.training import TrainingData, build_training_data

LEAVE_LAST_OUT = "leave-last-out"


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
