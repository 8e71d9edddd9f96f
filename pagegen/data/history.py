"""One user's viewing history, joined with item metadata, newest first."""

from __future__ import annotations

import polars as pl

from pagegen.data import schema as S
from pagegen.data.store import Dataset
from pagegen.errors import UnknownUserError


def user_ids(dataset: Dataset) -> list[int]:
    """Every user with at least one interaction, ascending."""
    return dataset.interactions[S.USER_ID].unique().sort().to_list()


def user_history(dataset: Dataset, user_id: int) -> pl.DataFrame:
    """The user's interactions with title, year and genres, most recent first."""
    rows = dataset.interactions.filter(pl.col(S.USER_ID) == user_id)
    if rows.is_empty():
        raise UnknownUserError(user_id, dataset.name)
    return (
        rows.join(dataset.items, on=S.ITEM_ID, how="left")
        .with_columns(pl.from_epoch(S.TIMESTAMP, time_unit="s").alias("watched_at"))
        .sort([S.TIMESTAMP, S.ITEM_ID], descending=True)
        .select(S.ITEM_ID, S.TITLE, S.YEAR, S.GENRES, S.RATING, "watched_at")
    )


def user_profile(dataset: Dataset, user_id: int) -> dict[str, object]:
    """The user's demographics where the dataset has them, else an empty dict."""
    if dataset.users is None:
        return {}
    row = dataset.users.filter(pl.col(S.USER_ID) == user_id)
    return row.to_dicts()[0] if row.height else {}
