"""The layout designer's data side: form records to a validated layout, errors naming the cell, and every
valid layout through the form unchanged."""

import pytest

from pagegen.app.designer import draft_layout, tile_records
from pagegen.errors import LayoutError
from pagegen.layout import (
    CONSTRAINT_RANGES,
    LAYOUT_RANGES,
    Constraints,
    Layout,
    Tile,
    layout_to_toml,
    parse_layout,
    resolve_layout,
)


def _draft(tiles, **overrides):
    base = resolve_layout("default")
    values = dict(name="Mine", description="d", row_decay=0.8, slot_decay=0.9, tiles=tiles, required_row_types=[])
    return draft_layout(base, **{**values, **overrides})


def _through_the_form(layout: Layout) -> Layout:
    """The draft the designer makes of ``layout`` when the form is submitted untouched."""
    return draft_layout(
        layout,
        name=layout.name,
        description=layout.description,
        row_decay=layout.row_decay,
        slot_decay=layout.slot_decay,
        tiles=tile_records(layout),
        required_row_types=list(layout.constraints.required_row_types),
    )


def test_form_records_round_trip_to_a_layout():
    base = resolve_layout("mixed")
    assert _through_the_form(base) == base


def test_a_grid_is_rows_times_columns_and_empty_cells_are_named():
    layout = _draft([{"kind": "grid", "slots": 24, "columns": 4, "pinned": None}, {"kind": "hero", "slots": 1}])
    assert layout.tiles[0].slots == 24 and layout.tiles[0].columns == 4
    with pytest.raises(LayoutError, match=r"tiles\[0\].slots 7 cards do not fill 4 columns evenly"):
        _draft([{"kind": "grid", "slots": 7, "columns": 4}])
    with pytest.raises(LayoutError, match=r"tiles\[1\].slots is required"):
        _draft([{"kind": "carousel", "slots": 8}, {"kind": "carousel", "slots": float("nan")}])
    with pytest.raises(LayoutError, match=r"tiles\[0\].slots must be a whole number between 3 and 30, got 99999"):
        _draft([{"kind": "carousel", "slots": 99999}])
    with pytest.raises(LayoutError, match=r"tiles\[0\].pinned 'nope' is not a row type"):
        _draft([{"kind": "carousel", "slots": 8, "pinned": "nope"}])


def _layout_at(end: str) -> Layout:
    """A valid layout with every number at the ``low`` or ``high`` end of its range."""
    if end == "low":
        tiles: tuple[Tile, ...] = (Tile("carousel", 3),)
    else:  # 19 grids of 6 × 8 and one tile of each other kind hold the 900 cards min_items asks for at most
        tiles = (*[Tile("grid", 48, columns=8)] * 19, Tile("carousel", 30), Tile("hero", 1), Tile("banner", 3))
    return Layout(
        name=f"{end} end",
        tiles=tiles,
        constraints=Constraints(**{key: getattr(bounds, end) for key, bounds in CONSTRAINT_RANGES.items()}),
        **{key: getattr(bounds, end) for key, bounds in LAYOUT_RANGES.items()},
    )


@pytest.mark.parametrize("end", ["low", "high"])
def test_a_layout_at_either_end_of_every_range_goes_through_the_form_unchanged(end):
    layout = _layout_at(end)
    assert parse_layout(layout_to_toml(layout)) == layout  # valid as a file
    assert _through_the_form(layout) == layout


def test_a_decay_just_outside_its_range_is_named():
    with pytest.raises(LayoutError, match=r"designer: row_decay must be between 0\.01 and 1\.0, got 0\.0$"):
        _draft([{"kind": "carousel", "slots": 8}], row_decay=0.0)
    with pytest.raises(LayoutError, match=r"designer: slot_decay must be between 0\.01 and 1\.0, got 1\.01$"):
        _draft([{"kind": "carousel", "slots": 8}], slot_decay=1.01)
