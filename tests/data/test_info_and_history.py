"""Dataset summaries and user histories, with expected values written as the arithmetic behind them."""

import datetime as dt

import polars as pl
import pytest

from pagegen.data import describe, load_dataset, user_history, user_ids, user_profile, write_dataset
from pagegen.errors import UnknownUserError

DAY = 86_400
START = int(dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def dataset(tmp_path):
    interactions = pl.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "item_id": [1, 2, 3, 1, 4],
            "rating": [5.0, 3.0, 4.0, 2.0, 1.0],
            "timestamp": [START, START + DAY, START + 2 * DAY, START + 3 * DAY, START + 10 * DAY],
        },
        schema={"user_id": pl.Int32, "item_id": pl.Int32, "rating": pl.Float32, "timestamp": pl.Int64},
    )
    items = pl.DataFrame(
        {
            "item_id": [1, 2, 3, 4],
            "title": ["Alpha", "Beta", "Gamma", "Delta"],
            "year": [1990, 1991, None, 1993],
            "genres": [["Drama"], ["Comedy", "Drama"], ["Sci-Fi"], ["Drama"]],
        },
        schema={"item_id": pl.Int32, "title": pl.String, "year": pl.Int32, "genres": pl.List(pl.String)},
    )
    users = pl.DataFrame(
        {"user_id": [1, 2], "age": [30, 40], "gender": ["F", "M"], "occupation": ["writer", "other"], "zip_code": ["1", "2"]},
        schema={"user_id": pl.Int32, "age": pl.Int32, "gender": pl.String, "occupation": pl.String, "zip_code": pl.String},
    )
    write_dataset(tmp_path, "tiny", {"interactions": interactions, "items": items, "users": users}, source="test")
    return load_dataset("tiny", tmp_path)


def test_describe(dataset):
    info = describe(dataset)
    assert (info.users, info.items, info.interactions) == (2, 4, 5)
    assert info.density == pytest.approx(5 / (2 * 4))
    assert (info.first_interaction, info.last_interaction) == ("2020-01-01", "2020-01-11")
    assert (info.rating_min, info.rating_max) == (1.0, 5.0)
    assert info.interactions_per_user == {"min": 2.0, "median": (2 + 3) / 2, "max": 3.0}
    assert info.genres == {"Drama": 3, "Comedy": 1, "Sci-Fi": 1}  # most common first, then by name
    assert info.tables == ["interactions", "items", "users"]
    assert info.to_dict()["fingerprint"] == dataset.fingerprint


def test_user_history_newest_first_with_metadata(dataset):
    history = user_history(dataset, 1)
    assert history.select("title", "rating").rows() == [("Gamma", 4.0), ("Beta", 3.0), ("Alpha", 5.0)]
    assert history["genres"].to_list()[1] == ["Comedy", "Drama"]
    assert history["watched_at"].to_list()[-1] == dt.datetime(2020, 1, 1)


def test_unknown_user_is_named(dataset):
    with pytest.raises(UnknownUserError, match=r"unknown user 99 in dataset 'tiny'"):
        user_history(dataset, 99)


def test_user_ids_and_profile(dataset):
    assert user_ids(dataset) == [1, 2]
    assert user_profile(dataset, 2) == {"user_id": 2, "age": 40, "gender": "M", "occupation": "other", "zip_code": "2"}
    assert user_profile(dataset, 99) == {}
