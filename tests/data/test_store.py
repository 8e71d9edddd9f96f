"""Writes are atomic: a failed write leaves the last good file and no temporary behind."""

import polars as pl
import pytest

from pagegen.data import load_dataset, prepared_datasets, write_dataset
from pagegen.data import store
from pagegen.data.store import resolve_data_dir
from pagegen.files import atomic_path
from pagegen.errors import DatasetNotPreparedError

INTERACTIONS = pl.DataFrame(
    {"user_id": [1, 1, 2], "item_id": [1, 2, 1], "rating": [4.0, 3.0, 5.0], "timestamp": [10, 20, 30]},
    schema={"user_id": pl.Int32, "item_id": pl.Int32, "rating": pl.Float32, "timestamp": pl.Int64},
)
ITEMS = pl.DataFrame(
    {"item_id": [1, 2], "title": ["A", "B"], "year": [1990, 2000], "genres": [["Drama"], ["Comedy", "Drama"]]},
    schema={"item_id": pl.Int32, "title": pl.String, "year": pl.Int32, "genres": pl.List(pl.String)},
)


def test_atomic_path_replaces_target_only_on_success(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("last good")
    with pytest.raises(RuntimeError, match="^disk full$"), atomic_path(target) as temp:
        temp.write_text("half written")
        raise RuntimeError("disk full")
    assert target.read_text() == "last good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    with atomic_path(target) as temp:
        temp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_round_trip_and_manifest(tmp_path):
    write_dataset(tmp_path, "tiny", {"interactions": INTERACTIONS, "items": ITEMS}, source="test")
    dataset = load_dataset("tiny", tmp_path)
    assert dataset.interactions.equals(INTERACTIONS) and dataset.items.equals(ITEMS)
    assert dataset.users is None
    assert dataset.manifest["source"] == "test"
    assert dataset.manifest["counts"] == {"interactions": 3, "items": 2}
    assert len(dataset.fingerprint) == 16
    assert prepared_datasets(tmp_path) == ["tiny"]


def test_fingerprint_follows_content(tmp_path):
    write_dataset(tmp_path, "a", {"interactions": INTERACTIONS, "items": ITEMS}, source="test")
    write_dataset(tmp_path, "b", {"interactions": INTERACTIONS.head(2), "items": ITEMS}, source="test")
    write_dataset(tmp_path, "c", {"interactions": INTERACTIONS, "items": ITEMS}, source="other")
    a, b, c = (load_dataset(name, tmp_path).fingerprint for name in "abc")
    assert a != b and a == c


def test_failed_rewrite_keeps_the_last_good_dataset(tmp_path, monkeypatch):
    write_dataset(tmp_path, "tiny", {"interactions": INTERACTIONS, "items": ITEMS}, source="first")

    class Exploding(pl.DataFrame):
        def write_parquet(self, *args, **kwargs):
            raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_dataset(tmp_path, "tiny", {"interactions": INTERACTIONS.head(1), "items": Exploding(ITEMS)}, source="second")
    dataset = load_dataset("tiny", tmp_path)
    assert dataset.interactions.equals(INTERACTIONS)
    assert dataset.manifest["source"] == "first"
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["interactions.parquet", "items.parquet", "manifest.json"]


def test_missing_dataset_says_how_to_prepare_it(tmp_path):
    with pytest.raises(DatasetNotPreparedError, match=r"dataset 'ml-1m' is not prepared in .*; run `pagegen data fetch --dataset ml-1m` first"):
        load_dataset("ml-1m", tmp_path)
    with pytest.raises(DatasetNotPreparedError, match=r"run `pagegen data synth --name synth` first"):
        load_dataset("synth", tmp_path)


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv(store.DATA_DIR_ENV, raising=False)
    assert str(resolve_data_dir()) == "data"
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert resolve_data_dir(tmp_path / "x") == tmp_path / "x"
