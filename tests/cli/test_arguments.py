"""The argument types and ``--set`` pairs every command shares: what they accept, and the one-line errors."""

import argparse

import pytest

from pagegen.cli.arguments import id_list, key_values, non_negative_int, positive_float, positive_int
from pagegen.errors import PagegenError


def test_set_values_are_json_when_they_parse_else_text():
    assert key_values(["l2=200", "dedup=soft", "genres=[1, 2]", "note=a=b"]) == {
        "l2": 200, "dedup": "soft", "genres": [1, 2], "note": "a=b",
    }  # fmt: skip
    with pytest.raises(PagegenError, match="--set expects KEY=VALUE, got 'l2'"):
        key_values(["l2"])
    with pytest.raises(PagegenError, match="--set expects KEY=VALUE, got '=3'"):
        key_values(["=3"])


def test_numbers_in_range():
    assert (positive_int("3"), non_negative_int("0"), positive_float("0.5")) == (3, 0, 0.5)
    with pytest.raises(argparse.ArgumentTypeError, match="must be a positive integer, got 0"):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="must be 0 or more, got -1"):
        non_negative_int("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="must be a positive number, got nan"):
        positive_float("nan")


def test_item_ids():
    assert id_list("1, 2,3,") == [1, 2, 3]
    with pytest.raises(argparse.ArgumentTypeError, match="expected comma-separated item ids, got '1,x'"):
        id_list("1,x")
