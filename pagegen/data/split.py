"""Evaluation splits.

* Leave-last-out (the protocol of SASRec and RecBole): order each user's interactions by time
  (ties keep file order), hold out the last as test and the one before as validation; the rest
  is train. Users with fewer than ``min_history`` interactions stay wholly in train.
* Cold start: the newest ``fraction`` of items, by first interaction, are removed from training
  entirely; their interactions by users who do have training history form the test set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from pagegen.data import schema as S
from pagegen.errors import ConfigError

_ROW = "_row"
_POSITION = "_position"
_LENGTH = "_length"


@dataclass(frozen=True)
class LeaveLastOutSplit:
    train: pl.DataFrame
    validation: pl.DataFrame
    test: pl.DataFrame


@dataclass(frozen=True)
class ColdStartSplit:
    train: pl.DataFrame
    test: pl.DataFrame
    cold_items: pl.Series


def chronological(interactions: pl.DataFrame) -> pl.DataFrame:
    """Interactions ordered by user, then time; equal timestamps keep their original order."""
    return interactions.with_row_index(_ROW).sort([S.USER_ID, S.TIMESTAMP, _ROW]).drop(_ROW)


def leave_last_out(interactions: pl.DataFrame, *, min_history: int = 3) -> LeaveLastOutSplit:
    if min_history < 3:
        raise ConfigError(f"min_history must be at least 3 (train, validation, test); got {min_history}")
    ordered = chronological(interactions).with_columns(
        pl.int_range(pl.len()).over(S.USER_ID).alias(_POSITION),
        pl.len().over(S.USER_ID).alias(_LENGTH),
    )
    eligible = pl.col(_LENGTH) >= min_history
    from_end = pl.col(_LENGTH) - pl.col(_POSITION)  # 1 for the last interaction
    parts = {
        "test": ordered.filter(eligible & (from_end == 1)),
        "validation": ordered.filter(eligible & (from_end == 2)),
        "train": ordered.filter(~eligible | (from_end > 2)),
    }
    return LeaveLastOutSplit(**{name: frame.drop(_POSITION, _LENGTH) for name, frame in parts.items()})


def cold_start(interactions: pl.DataFrame, *, fraction: float = 0.1) -> ColdStartSplit:
    if not 0 < fraction < 1:
        raise ConfigError(f"cold-start fraction must be between 0 and 1 (exclusive); got {fraction}")
    first_seen = (
        interactions.group_by(S.ITEM_ID)
        .agg(pl.col(S.TIMESTAMP).min().alias("first_seen"))
        .sort(["first_seen", S.ITEM_ID], descending=True)
    )
    n_cold = math.ceil(fraction * first_seen.height)
    cold_items = first_seen[S.ITEM_ID].head(n_cold)
    is_cold = pl.col(S.ITEM_ID).is_in(cold_items.implode())
    train = interactions.filter(~is_cold)
    test = interactions.filter(is_cold & pl.col(S.USER_ID).is_in(train[S.USER_ID].unique().implode()))
    return ColdStartSplit(train=train, test=test, cold_items=cold_items.sort())
