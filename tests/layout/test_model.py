"""The layout model: resizing a layout to the page-size sliders."""

import pytest

from pagegen.errors import LayoutError
from pagegen.layout import resize_layout, resolve_layout


def test_resize_keeps_pinned_tiles_and_copies_the_last_plain_one():
    layout = resolve_layout("default")
    bigger = resize_layout(layout, rows=10, slots=6)
    assert len(bigger.tiles) == 10 and bigger.tiles[0].pinned == "up_next"
    assert all(t.slots == 6 and t.kind == "carousel" for t in bigger.tiles)
    assert len(resize_layout(layout, rows=2).tiles) == 2
    mixed = resize_layout(resolve_layout("mixed"), slots=5)
    assert {t.kind: t.slots for t in mixed.tiles}["hero"] == 1  # only carousels change
    with pytest.raises(LayoutError, match="slots 2 is outside 3–30"):
        resize_layout(layout, slots=2)
