"""Synthetic MovieLens-like data in the normalized schema, for scale tests.

The generative story: items have genres, a release year and a skewed (Zipf) popularity; users
belong to taste clusters that each favour a few genres, and have log-normal activity; each
interaction picks an item in proportion to popularity × the cluster's genre affinity, at a time
after the item's release, with a rating that follows the affinity. Vectorized with numpy so
20 M interactions take well under a minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.data.parsers import ML100K_GENRES
from pagegen.errors import ConfigError
from pagegen.seeding import Seed, as_generator

GENRES = tuple(g for g in ML100K_GENRES if g != S.UNKNOWN_GENRE)
WINDOW_START = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
WINDOW_END = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())
MIN_HISTORY = 3  # enough for a leave-last-out split to keep one training interaction

_ADJECTIVES = (
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Forgotten", "Electric",
    "Wild", "Distant", "Frozen", "Burning", "Secret", "Hollow", "Lucky", "Restless", "Velvet",
    "Iron", "Paper", "Savage", "Gentle", "Lonely", "Bright", "Dark", "Quiet", "Lost", "Final",
    "Endless", "Little", "Bitter", "Sweet", "Strange", "Northern", "Falling", "Rising", "Painted",
    "Crooked", "Glass", "Neon",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Empire", "Garden", "River", "Signal", "Witness", "Horizon", "Promise", "Kingdom",
    "Orchard", "Station", "Mirror", "Letter", "Voyage", "Frontier", "Summer", "Winter", "Shadow",
    "Island", "Machine", "Crown", "Highway", "Lantern", "Circus", "Engine", "Canyon", "Compass",
    "Dynasty", "Echo", "Fortress", "Harvest", "Jungle", "Labyrinth", "Meadow", "Nocturne",
    "Oracle", "Parade", "Quarry", "Reckoning", "Tide",
)  # fmt: skip
_PLACES = (
    "Avalon", "Brooklyn", "Cairo", "Dakota", "Eden", "Fairview", "Granada", "Havana", "Istanbul",
    "Jericho", "Kyoto", "Lisbon", "Memphis", "Nairobi", "Odessa", "Palermo", "Quebec", "Reno",
    "Sahara", "Tangier", "Utopia", "Verona", "Warsaw", "Yukon", "Zanzibar", "the Moon", "the North",
    "the Valley", "the Coast", "the Deep",
)  # fmt: skip


@dataclass(frozen=True)
class SynthConfig:
    users: int
    items: int
    interactions: int
    seed: int = 0
    clusters: int = 24
    popularity_exponent: float = 0.9  # Zipf exponent of item popularity


def synthesize(config: SynthConfig) -> dict[str, pl.DataFrame | None]:
    """Generate the interactions and items tables for ``config``."""
    _check(config)
    rng = as_generator(config.seed)
    genre_matrix, items = _items(config, rng)
    available = items[S.TIMESTAMP].to_numpy()
    interactions = _interactions(config, genre_matrix, available, rng)
    return {"interactions": interactions, "items": items.drop(S.TIMESTAMP), "users": None, "tags": None}


def _check(config: SynthConfig) -> None:
    if min(config.users, config.items, config.interactions) < 1:
        raise ConfigError("synthetic data needs at least one user, item and interaction")
    if config.interactions < config.users:
        raise ConfigError(f"{config.interactions} interactions cannot give each of {config.users} users one")
    if config.interactions > 0.5 * config.users * config.items:
        raise ConfigError(
            f"{config.interactions} interactions exceed half of all {config.users} × {config.items} user-item pairs; "
            "ask for more users or items"
        )


def _titles(count: int, rng: np.random.Generator) -> list[str]:
    """Distinct plausible titles: three patterns over word lists, drawn without repeats."""
    a, n, p = len(_ADJECTIVES), len(_NOUNS), len(_PLACES)
    space = a * n + n * p + a * n * p
    picks = rng.choice(space, size=count, replace=count > space)
    titles = []
    for k in picks.tolist():
        if k < a * n:
            titles.append(f"The {_ADJECTIVES[k // n]} {_NOUNS[k % n]}")
        elif (k := k - a * n) < n * p:
            titles.append(f"{_NOUNS[k // p]} of {_PLACES[k % p]}")
        else:
            k -= n * p
            titles.append(f"The {_ADJECTIVES[k // (n * p)]} {_NOUNS[(k // p) % n]} of {_PLACES[k % p]}")
    return titles


def _items(config: SynthConfig, rng: np.random.Generator) -> tuple[np.ndarray, pl.DataFrame]:
    n_items, n_genres = config.items, len(GENRES)
    # Genres: a primary genre with a skewed share (drama and comedy dominate, as in MovieLens) plus up to two more.
    genre_share = rng.dirichlet(np.full(n_genres, 0.8))
    genre_matrix = np.zeros((n_items, n_genres), dtype=bool)
    rows = np.arange(n_items)
    for extra in range(3):
        chosen = rng.choice(n_genres, size=n_items, p=genre_share)
        keep = np.ones(n_items, dtype=bool) if extra == 0 else rng.random(n_items) < 0.45 / extra
        genre_matrix[rows[keep], chosen[keep]] = True
    genre_names = np.array(GENRES, dtype=object)
    genres = [genre_names[row].tolist() for row in genre_matrix]
    # Release years skew recent; an item becomes available at its release or at the window start.
    years = np.clip(2023 - rng.gamma(2.0, 9.0, size=n_items).astype(np.int32), 1920, 2023)
    release = np.array([int(dt.datetime(int(y), 1, 1, tzinfo=dt.UTC).timestamp()) for y in range(1920, 2024)])
    available = np.maximum(release[years - 1920] + rng.integers(0, 365 * 86_400, size=n_items), WINDOW_START)
    items = pl.DataFrame(
        {
            S.ITEM_ID: np.arange(1, n_items + 1, dtype=np.int32),
            S.TITLE: _titles(n_items, rng),
            S.YEAR: years.astype(np.int32),
            S.GENRES: genres,
            S.TIMESTAMP: np.minimum(available, WINDOW_END - 86_400),
        },
        schema_overrides={S.GENRES: pl.List(pl.String)},
    )
    return genre_matrix, items


def _interactions(config: SynthConfig, genre_matrix: np.ndarray, available: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    n_users, n_items, n_genres = config.users, config.items, genre_matrix.shape[1]
    popularity = 1.0 / np.power(rng.permutation(n_items) + 10.0, config.popularity_exponent)
    taste = rng.dirichlet(np.full(n_genres, 0.3), size=config.clusters)  # clusters × genres
    affinity = (taste @ genre_matrix.T.astype(np.float32)).astype(np.float32)  # clusters × items
    affinity /= affinity.max(axis=1, keepdims=True)
    weights = popularity[None, :] * (0.05 + affinity) ** 2
    cluster_of_user = rng.integers(0, config.clusters, size=n_users)

    keys = np.empty(0, dtype=np.int64)
    wanted = config.interactions
    for round_ in range(24):  # duplicates (same user, same item) are dropped; top up the shortfall
        shortfall = wanted - keys.size
        if shortfall <= 0:
            break
        # Later rounds flatten the weights and draw more, so dense requests still fill up.
        density = keys.size / (n_users * n_items)
        count = int(shortfall * 1.08 / max(1.0 - density, 0.05)) + 16
        draw = _draw(count, cluster_of_user, weights ** (0.5**round_), rng, first=round_ == 0)
        keys = _sorted_unique(np.concatenate([keys, draw]))
    if keys.size < wanted:
        raise ConfigError(f"could only place {keys.size} distinct interactions; ask for more items or fewer interactions")
    if keys.size > wanted:
        keys = _trim(keys, wanted, n_items, MIN_HISTORY if wanted >= MIN_HISTORY * n_users else 1, rng)
    users = (keys // n_items).astype(np.int32)
    items = (keys % n_items).astype(np.int32)
    del keys

    start = available[items]
    timestamps = start + (rng.beta(2.0, 1.2, size=wanted) * (WINDOW_END - start)).astype(np.int64)
    liking = affinity[cluster_of_user[users], items]
    ratings = np.clip(np.rint(1.5 + 3.5 * liking + rng.normal(0.0, 0.8, size=wanted)), 1, 5).astype(np.float32)
    return pl.DataFrame(
        {S.USER_ID: users + 1, S.ITEM_ID: items + 1, S.RATING: ratings, S.TIMESTAMP: timestamps}
    )


def _trim(keys: np.ndarray, wanted: int, n_items: int, floor: int, rng: np.random.Generator) -> np.ndarray:
    """Drop random surplus pairs, never one of a user's first ``floor``: every user keeps a history."""
    users = keys // n_items
    position = np.arange(keys.size) - np.searchsorted(users, users, side="left")
    removable = np.flatnonzero(position >= floor)
    drop = rng.choice(removable, size=keys.size - wanted, replace=False)
    keep = np.ones(keys.size, dtype=bool)
    keep[drop] = False
    return keys[keep]


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sort-based unique: several times faster than ``np.unique``'s hashing on tens of millions of keys."""
    keys.sort()
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def _draw(count: int, cluster_of_user: np.ndarray, weights: np.ndarray, rng: np.random.Generator, *, first: bool) -> np.ndarray:
    """``count`` (user, item) pairs as ``user * n_items + item`` keys; the first draw guarantees each user a history."""
    n_users, n_items = cluster_of_user.size, weights.shape[1]
    floor = MIN_HISTORY if count >= MIN_HISTORY * n_users * 1.08 else 1
    if first:
        activity = rng.lognormal(0.0, 1.0, size=n_users)
        extra = np.floor(activity / activity.sum() * max(count - floor * n_users, 0)).astype(np.int64)
        per_user = floor + extra
    else:
        per_user = rng.multinomial(count, np.full(n_users, 1.0 / n_users))
    users = np.repeat(np.arange(n_users, dtype=np.int64), per_user)
    items = np.empty(users.size, dtype=np.int64)
    clusters = cluster_of_user[users]
    for cluster in range(weights.shape[0]):
        where = np.flatnonzero(clusters == cluster)
        if where.size:
            p = weights[cluster] / weights[cluster].sum()
            items[where] = np.searchsorted(np.cumsum(p), rng.random(where.size), side="right").clip(max=n_items - 1)
    return users * n_items + items
