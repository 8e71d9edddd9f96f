"""Popularity: all-time counts, "trending" (time-decayed counts), and popular-in-genre collections.

The same scores for every user: the baseline every personalised generator must beat, the fallback
for users without history, and the source of "Trending" and "<genre> for you" rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.errors import ConfigError
from pagegen.generators.base import Generator, Validation, check_k, require
from pagegen.generators.training import TrainingData

DAY = 86_400


class Popularity(Generator):
    name: ClassVar[str] = "popularity"
    defaults: ClassVar[dict[str, Any]] = {"half_life_days": None}

    def _check_params(self) -> None:
        half_life = self.params["half_life_days"]
        require(half_life is None or half_life > 0, self.name, f"half_life_days must be positive, got {half_life}")

    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None:
        half_life = self.params["half_life_days"]
        if half_life is None:
            weights = np.ones(len(data.items), dtype=np.float64)
        else:
            age_days = (data.timestamps.max() - data.timestamps) / DAY
            weights = np.power(0.5, age_days / half_life)
        counts = np.bincount(data.items, weights=weights, minlength=data.n_items)
        self.popularity = np.log1p(counts).astype(np.float32)

    def _score(self, histories: list[np.ndarray]) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(histories), len(self.popularity))).copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {"popularity": self.popularity}

    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None:
        self.popularity = state["popularity"]

    def popular_in_genre(self, genre: str, k: int = 10, *, exclude: np.ndarray | None = None) -> pl.DataFrame:
        """The ``k`` most popular items carrying ``genre`` (a "Sci-Fi for you" collection)."""
        check_k(k)
        in_genre = self.data.catalogue[S.GENRES].list.contains(genre).to_numpy()
        if not in_genre.any():
            known = sorted(set(self.data.catalogue[S.GENRES].explode().drop_nulls().to_list()))
            raise ConfigError(f"no item has genre {genre!r}; genres: {', '.join(known)}")
        scores = np.where(in_genre, self.popularity, -np.inf).astype(np.float32)
        if exclude is not None and len(exclude):
            scores[exclude] = -np.inf
        return self._top(scores, k)


class Trending(Popularity):
    """Recent popularity: each interaction counts half as much every ``half_life_days``."""

    name: ClassVar[str] = "trending"
    defaults: ClassVar[dict[str, Any]] = {"half_life_days": 14.0}
