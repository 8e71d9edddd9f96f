"""What a prepared dataset holds, as figures a person (or ``--json``) can read."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import polars as pl

from pagegen.data import schema as S
from pagegen.data.store import Dataset


@dataclass(frozen=True)
class DatasetInfo:
    dataset: str
    source: str
    fingerprint: str
    users: int
    items: int
    interactions: int
    density: float
    first_interaction: str
    last_interaction: str
    rating_min: float
    rating_max: float
    interactions_per_user: dict[str, float]
    genres: dict[str, int]  # genre → number of items carrying it, most common first
    tables: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def describe(dataset: Dataset) -> DatasetInfo:
    interactions, items = dataset.interactions, dataset.items
    n_users = interactions[S.USER_ID].n_unique()
    n_items = items.height
    per_user = interactions.group_by(S.USER_ID).len()["len"]
    genre_counts = (
        items.select(pl.col(S.GENRES).explode().alias("genre"))
        .group_by("genre")
        .len()
        .sort(["len", "genre"], descending=[True, False])
    )
    tables = [name for name in ("interactions", "items", "users", "tags") if getattr(dataset, name) is not None]
    return DatasetInfo(
        dataset=dataset.name,
        source=str(dataset.manifest.get("source", "")),
        fingerprint=dataset.fingerprint,
        users=n_users,
        items=n_items,
        interactions=interactions.height,
        density=round(interactions.height / (n_users * n_items), 6) if n_users and n_items else 0.0,
        first_interaction=_iso_date(interactions[S.TIMESTAMP].min()),
        last_interaction=_iso_date(interactions[S.TIMESTAMP].max()),
        rating_min=float(interactions[S.RATING].min() or 0.0),
        rating_max=float(interactions[S.RATING].max() or 0.0),
        interactions_per_user={
            "min": float(per_user.min() or 0),
            "median": float(per_user.median() or 0),
            "max": float(per_user.max() or 0),
        },
        genres=dict(zip(genre_counts["genre"].to_list(), genre_counts["len"].to_list(), strict=True)),
        tables=tables,
    )


def _iso_date(seconds: object) -> str:
    if seconds is None:
        return ""
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).date().isoformat()  # type: ignore[call-overload]
