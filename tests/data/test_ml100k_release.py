"""The real ml-100k as `make data` prepares it (from GroupLens or the recbole wheel)."""

import os
from pathlib import Path

import pytest

from pagegen.data import describe, leave_last_out, load_dataset, prepared_datasets

DATA_DIR = Path(os.environ.get("PAGEGEN_DATA_DIR") or Path(__file__).resolve().parents[2] / "data")

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        "ml-100k" not in prepared_datasets(DATA_DIR),
        reason=f"ml-100k is not prepared in {DATA_DIR}; `make test` prepares it with `pagegen data fetch`",
    ),
]


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k", DATA_DIR)


def test_release_counts(ml100k):
    info = describe(ml100k)
    assert (info.users, info.items, info.interactions) == (943, 1682, 100_000)
    assert len(info.genres) == 19
    assert (info.first_interaction, info.last_interaction) == ("1997-09-20", "1998-04-22")
    assert ml100k.users is not None and ml100k.users.height == 943


def test_titles_are_readable(ml100k):
    titles = dict(ml100k.items.select("item_id", "title").rows())
    assert titles[1] == "Toy Story" and titles[12] == "The Usual Suspects"


def test_leave_last_out_on_the_release(ml100k):
    split = leave_last_out(ml100k.interactions)
    assert (split.test.height, split.validation.height) == (943, 943)  # every user rated at least 20 films
    assert split.train.height == 100_000 - 2 * 943
