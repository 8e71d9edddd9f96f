"""Tiny datasets whose right answers are known, for the generator contract tests."""

import polars as pl
import pytest

from pagegen.data import Dataset, SynthConfig, load_dataset, synthesize, write_dataset
from pagegen.generators import build_training_data

N_ITEMS = 12


def make_dataset(tmp_path, name, rows, n_items=N_ITEMS, genres=None):
    interactions = pl.DataFrame(rows, schema=["user_id", "item_id", "rating", "timestamp"], orient="row").cast(
        {"user_id": pl.Int32, "item_id": pl.Int32, "rating": pl.Float32, "timestamp": pl.Int64}
    )
    items = pl.DataFrame(
        {
            "item_id": list(range(1, n_items + 1)),
            "title": [f"Item {i}" for i in range(1, n_items + 1)],
            "year": [1990 + i for i in range(n_items)],
            "genres": genres or [["Drama"] if i % 2 else ["Comedy"] for i in range(n_items)],
        },
        schema={"item_id": pl.Int32, "title": pl.String, "year": pl.Int32, "genres": pl.List(pl.String)},
    )
    write_dataset(tmp_path, name, {"interactions": interactions, "items": items}, source="test")
    return load_dataset(name, tmp_path)


@pytest.fixture
def cooccurrence(tmp_path) -> Dataset:
    """Items 1 and 2 always go together, as do 3 and 4; item 5 is watched by everyone."""
    rows, t = [], 0
    for user in range(1, 31):
        pair = (1, 2) if user % 2 else (3, 4)
        for item in (*pair, 5, 6 + user % 6):
            rows.append((user, item, 4.0, t))
            t += 1
    return make_dataset(tmp_path, "pairs", rows)


@pytest.fixture
def synthetic(tmp_path) -> Dataset:
    tables = synthesize(SynthConfig(users=60, items=40, interactions=900, seed=5))
    write_dataset(tmp_path, "synth", tables, source="test")
    return load_dataset("synth", tmp_path)


@pytest.fixture
def training(synthetic):
    return build_training_data(synthetic, synthetic.interactions, split="all")
