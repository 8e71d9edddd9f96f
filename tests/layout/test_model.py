"""The layout model: ranges, and resizing a layout to the page-size sliders."""

import dataclasses

import pytest

from pagegen.errors import SettingsError
from pagegen.layout import Range, Tile, resize_layout, resolve_layout


def test_a_range_of_ints_takes_whole_numbers_only():
    cards = Range(3, 30, 1)
    assert cards.integer and str(cards) == "3–30"
    assert cards.check("slots", 3) == 3 and cards.check("slots", 30) == 30
    for refused in (2, 31, 3.0, True, "4"):
        with pytest.raises(SettingsError, match=r"^setting slots must be a whole number between 3 and 30, got "):
            cards.check("slots", refused)


def test_a_fractional_range_gives_floats_and_refuses_nan():
    share = Range(0.1, 1.0, 0.05)
    assert not share.integer
    assert share.check("max_genre_share", 1) == 1.0 and type(share.check("max_genre_share", 1)) is float
    for refused in (0.09, 1.01, float("nan"), False, None):
        with pytest.raises(SettingsError, match=r"^setting max_genre_share must be between 0\.1 and 1\.0, got "):
            share.check("max_genre_share", refused)


def test_resize_keeps_pinned_tiles_and_copies_the_last_plain_one():
    default = resolve_layout("default")
    layout = dataclasses.replace(default, tiles=(Tile("carousel", 10, pinned="up_next"), *default.tiles[1:]))
    bigger = resize_layout(layout, rows=10, slots=6)
    assert len(bigger.tiles) == 10 and bigger.tiles[0].pinned == "up_next"
    assert all(t.pinned is None for t in bigger.tiles[1:])
    assert all(t.slots == 6 and t.kind == "carousel" for t in bigger.tiles)
    assert len(resize_layout(layout, rows=2).tiles) == 2
    mixed = resize_layout(resolve_layout("mixed"), slots=5)
    assert {t.kind: t.slots for t in mixed.tiles}["hero"] == 1  # only carousels change
    with pytest.raises(SettingsError, match=r"^setting slots must be a whole number between 3 and 30, got 2$"):
        resize_layout(layout, slots=2)
    with pytest.raises(SettingsError, match=r"^setting rows must be a whole number between 1 and 30, got 31$"):
        resize_layout(layout, rows=31)
