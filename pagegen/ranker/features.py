"""What the ranker knows of a (user, item) pair: every generator's score and rank, the item's popularity,
and how well its genres and year match the user's history.

Features are computed for every catalogue item at once, one user per row, so the ranker can give every
item a probability (the rows show items any generator found, not only the strongest generator's top).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pagegen.data import schema as S
from pagegen.generators.training import TrainingData
from pagegen.ranking import percentiles

# Generators whose scores feed the ranker, in feature order; a ranker is fitted with those present.
RANKED_GENERATORS = ("ease", "sasrec", "content", "popularity", "trending")
LONG_HISTORY = ("ease", "sasrec")  # their scores also enter scaled by the history's length (they grow surer)
YEAR_SCALE = 10.0  # years between an item and the user's mean year, in decades


@dataclass(frozen=True)
class ItemTable:
    """The catalogue facts the features use, as arrays built once per dataset."""

    genre_matrix: np.ndarray  # items × genres, 1 where the item has the genre, rows summing to 1
    genre_member: np.ndarray  # items × genres, boolean
    years: np.ndarray  # each item's year, NaN when unknown
    log_counts: np.ndarray  # log(1 + users who watched it)

    @classmethod
    def of(cls, data: TrainingData) -> ItemTable:
        genres = [[g for g in item if g != S.UNKNOWN_GENRE] for item in data.catalogue[S.GENRES].to_list()]
        names = sorted({g for item in genres for g in item})
        column = {g: j for j, g in enumerate(names)}
        member = np.zeros((data.n_items, len(names)), dtype=bool)
        for item, own in enumerate(genres):
            member[item, [column[g] for g in own]] = True
        sizes = np.maximum(member.sum(axis=1, keepdims=True), 1)
        years = np.array([np.nan if y is None else float(y) for y in data.catalogue[S.YEAR].to_list()])
        return cls(member / sizes, member, years, np.log1p(data.item_counts.astype(np.float64)))


def feature_names(generators: Sequence[str]) -> tuple[str, ...]:
    """The ranker's features for the given generators, in column order."""
    names = [f"{kind}:{name}" for name in generators for kind in ("score", "rank")]
    names += [f"score×history:{name}" for name in LONG_HISTORY if name in generators]
    return (*names, "log_count", "genre_affinity", "year_distance", "year_unknown")


def features(
    raw: Mapping[str, np.ndarray], histories: Sequence[np.ndarray], generators: Sequence[str], items: ItemTable
) -> np.ndarray:
    """users × items × features (float32), in ``feature_names(generators)`` order. ``raw``: each
    generator's scores for the ``histories`` (users × items)."""
    users, n_items = len(histories), len(items.log_counts)
    columns: list[np.ndarray] = []
    lengths = np.log1p(np.array([len(h) for h in histories], dtype=np.float64))[:, None]
    standard: dict[str, np.ndarray] = {}
    for name in generators:
        scores = np.asarray(raw[name], dtype=np.float64)
        spread = scores.std(axis=1, keepdims=True)
        standard[name] = (scores - scores.mean(axis=1, keepdims=True)) / np.maximum(spread, 1e-6)
        # The rank's logarithm, ties sharing the middle of their ranks: the head of a ranking matters most.
        ranks = np.stack([1.0 + (1.0 - percentiles(row)) * (n_items - 1) for row in scores])
        columns += [standard[name], -np.log(ranks)]
    columns += [standard[name] * lengths for name in LONG_HISTORY if name in generators]
    columns.append(np.broadcast_to(items.log_counts, (users, n_items)))
    profile = np.zeros((users, items.genre_member.shape[1]))
    mean_year = np.zeros((users, 1))
    for u, history in enumerate(histories):
        if len(history):
            profile[u] = items.genre_member[history].mean(axis=0)
            known = items.years[history]
            known = known[~np.isnan(known)]
            mean_year[u] = known.mean() if len(known) else np.nan
        else:
            mean_year[u] = np.nan
    columns.append(profile @ items.genre_matrix.T)  # the share of the history in the item's genres
    distance = np.abs(items.years[None, :] - mean_year) / YEAR_SCALE
    unknown = np.isnan(distance)
    columns += [np.where(unknown, 0.0, distance), unknown.astype(np.float64)]
    return np.stack(columns, axis=-1).astype(np.float32)
