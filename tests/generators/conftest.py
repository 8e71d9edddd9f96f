"""Tiny datasets whose right answers are known, for the generator contract tests."""

import pytest

from pagegen.data import Dataset, SynthConfig, load_dataset, synthesize, write_dataset
from pagegen.generators import build_training_data
from tests.factories import make_dataset


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
