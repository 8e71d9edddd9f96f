"""Synthetic data: the normalized schema, exact sizes, determinism, and the structure it promises."""

import numpy as np
import polars as pl
import pytest

from pagegen.data import SynthConfig, synthesize
from pagegen.data import schema as S
from pagegen.data.synth import GENRES
from pagegen.errors import PagegenError

CONFIG = SynthConfig(users=500, items=400, interactions=15_000, seed=3)


@pytest.fixture(scope="module")
def tables():
    return synthesize(CONFIG)


def test_schema_and_exact_sizes(tables):
    interactions, items = tables["interactions"], tables["items"]
    assert interactions.schema == pl.Schema(S.INTERACTIONS)
    assert items.schema == pl.Schema(S.ITEMS)
    assert interactions.height == CONFIG.interactions
    assert items.height == CONFIG.items and items["title"].is_unique().all()
    assert interactions["user_id"].n_unique() == CONFIG.users
    assert interactions.group_by("user_id").len()["len"].min() >= 3  # every user can be split leave-last-out
    assert interactions.select("user_id", "item_id").is_unique().all()
    assert set(items["genres"].explode().to_list()) <= set(GENRES)


def test_same_seed_same_data_other_seed_other_data(tables):
    again = synthesize(CONFIG)
    assert again["interactions"].equals(tables["interactions"]) and again["items"].equals(tables["items"])
    other = synthesize(SynthConfig(users=500, items=400, interactions=15_000, seed=4))
    assert not other["interactions"].equals(tables["interactions"])


def test_popularity_is_skewed(tables):
    counts = np.sort(tables["interactions"].group_by("item_id").len()["len"].to_numpy())[::-1]
    top_tenth = counts[: len(counts) // 10].sum() / counts.sum()
    assert top_tenth > 0.25  # a uniform catalogue would give 0.10


def test_users_have_concentrated_tastes(tables):
    """Users' genre mix is far more concentrated than the catalogue's: taste clusters are real."""
    by_genre = tables["interactions"].join(tables["items"], on="item_id").explode("genres")
    catalogue = by_genre.group_by("genres").len()["len"].to_numpy()
    catalogue_top_share = catalogue.max() / catalogue.sum()
    per_user = by_genre.group_by("user_id", "genres").len().group_by("user_id").agg(
        (pl.col("len").max() / pl.col("len").sum()).alias("top_share")
    )
    assert per_user["top_share"].median() > catalogue_top_share * 1.3


def test_interactions_follow_release_and_ratings_are_on_scale(tables):
    joined = tables["interactions"].join(tables["items"], on="item_id")
    watched_year = pl.from_epoch("timestamp", time_unit="s").dt.year()
    assert joined.filter(watched_year < pl.col("year")).is_empty()
    assert set(tables["interactions"]["rating"].unique().to_list()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SynthConfig(users=10, items=10, interactions=5), "cannot give each of 10 users one"),
        (SynthConfig(users=10, items=10, interactions=60), "exceed half of all 10 × 10"),
        (SynthConfig(users=0, items=10, interactions=5), "at least one user"),
    ],
)
def test_impossible_requests_are_refused(config, message):
    with pytest.raises(PagegenError, match=message):
        synthesize(config)
