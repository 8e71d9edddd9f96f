"""Leave-last-out and cold-start splits: known answers on hand-sized data, no leakage on synthetic data."""

import polars as pl
import pytest

from pagegen.data import SynthConfig, cold_start, leave_last_out, synthesize
from pagegen.errors import PagegenError


def _frame(rows):
    return pl.DataFrame(rows, schema=["user_id", "item_id", "rating", "timestamp"], orient="row")


def test_last_is_test_and_the_one_before_is_validation():
    interactions = _frame(
        [
            (1, 10, 5.0, 300),  # file order is not time order
            (1, 11, 4.0, 100),
            (1, 12, 3.0, 200),
            (1, 13, 2.0, 400),
            (2, 10, 1.0, 50),
            (2, 14, 2.0, 60),  # user 2 has only two interactions: all stay in train
        ]
    )
    split = leave_last_out(interactions)
    assert split.test.select("user_id", "item_id").rows() == [(1, 13)]
    assert split.validation.select("user_id", "item_id").rows() == [(1, 10)]
    assert sorted(split.train.select("user_id", "item_id").rows()) == [(1, 11), (1, 12), (2, 10), (2, 14)]


def test_equal_timestamps_keep_file_order():
    interactions = _frame([(1, 7, 3.0, 100), (1, 9, 3.0, 100), (1, 8, 3.0, 100), (1, 5, 3.0, 100)])
    split = leave_last_out(interactions)
    assert split.test["item_id"].to_list() == [5]
    assert split.validation["item_id"].to_list() == [8]


def test_min_history_below_three_is_refused():
    with pytest.raises(PagegenError, match="min_history must be at least 3"):
        leave_last_out(_frame([(1, 1, 1.0, 1)]), min_history=2)


@pytest.fixture(scope="module")
def synthetic():
    return synthesize(SynthConfig(users=300, items=200, interactions=6_000, seed=7))["interactions"]


def test_no_leakage_and_nothing_lost(synthetic):
    split = leave_last_out(synthetic)
    assert split.train.height + split.validation.height + split.test.height == synthetic.height
    assert split.test["user_id"].is_unique().all() and split.validation["user_id"].is_unique().all()
    last_train = split.train.group_by("user_id").agg(pl.col("timestamp").max().alias("last_train"))
    checks = (
        split.test.join(last_train, on="user_id")
        .join(split.validation.select("user_id", pl.col("timestamp").alias("validation_time")), on="user_id")
    )
    assert checks.height == split.test.height  # every evaluated user keeps training history
    assert (checks["timestamp"] >= checks["validation_time"]).all()
    assert (checks["validation_time"] >= checks["last_train"]).all()
    assert (checks["timestamp"] >= checks["last_train"]).all()


def test_cold_start_removes_the_newest_items_from_training(synthetic):
    split = cold_start(synthetic, fraction=0.1)
    n_items = synthetic["item_id"].n_unique()
    assert split.cold_items.len() == -(-n_items // 10)  # ceil(10 %)
    cold = set(split.cold_items.to_list())
    assert not cold & set(split.train["item_id"].to_list())
    assert set(split.test["item_id"].to_list()) <= cold
    assert set(split.test["user_id"].to_list()) <= set(split.train["user_id"].to_list())
    first_seen = synthetic.group_by("item_id").agg(pl.col("timestamp").min())
    newest_warm = first_seen.filter(~pl.col("item_id").is_in(list(cold)))["timestamp"].max()
    oldest_cold = first_seen.filter(pl.col("item_id").is_in(list(cold)))["timestamp"].min()
    assert oldest_cold >= newest_warm


def test_cold_start_known_answer():
    interactions = _frame([(1, 1, 5.0, 10), (2, 1, 5.0, 11), (1, 2, 4.0, 50), (2, 3, 3.0, 20), (3, 2, 4.0, 60)])
    split = cold_start(interactions, fraction=1 / 3)
    assert split.cold_items.to_list() == [2]  # first seen at 50, the newest
    assert split.test.select("user_id", "item_id").rows() == [(1, 2)]  # user 3 has no training history
    assert split.train.height == 3


def test_cold_start_fraction_must_be_a_share():
    with pytest.raises(PagegenError, match="between 0 and 1"):
        cold_start(_frame([(1, 1, 1.0, 1)]), fraction=1.5)
