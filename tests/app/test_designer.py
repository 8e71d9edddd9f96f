"""The layout designer's data side: form records to a validated layout, errors naming the cell."""

import pytest

from pagegen.app.designer import draft_layout, tile_records
from pagegen.errors import LayoutError
from pagegen.layout import resolve_layout


def _draft(tiles, **overrides):
    base = resolve_layout("default")
    values = dict(name="Mine", description="d", row_decay=0.8, slot_decay=0.9, tiles=tiles, required_row_types=[])
    return draft_layout(base, **{**values, **overrides})


def test_form_records_round_trip_to_a_layout():
    base = resolve_layout("mixed")
    draft = draft_layout(
        base,
        name=base.name,
        description=base.description,
        row_decay=base.row_decay,
        slot_decay=base.slot_decay,
        tiles=tile_records(base),
        required_row_types=list(base.constraints.required_row_types),
    )
    assert draft == base


def test_a_grid_is_rows_times_columns_and_empty_cells_are_named():
    layout = _draft([{"kind": "grid", "slots": 24, "columns": 4, "pinned": None}, {"kind": "hero", "slots": 1}])
    assert layout.tiles[0].slots == 24 and layout.tiles[0].columns == 4
    with pytest.raises(LayoutError, match=r"tiles\[0\].slots 7 cards do not fill 4 columns evenly"):
        _draft([{"kind": "grid", "slots": 7, "columns": 4}])
    with pytest.raises(LayoutError, match=r"tiles\[1\].slots is required"):
        _draft([{"kind": "carousel", "slots": 8}, {"kind": "carousel", "slots": float("nan")}])
    with pytest.raises(LayoutError, match=r"tiles\[0\].slots 99999 is outside 3–30"):
        _draft([{"kind": "carousel", "slots": 99999}])
    with pytest.raises(LayoutError, match=r"tiles\[0\].pinned 'nope' is not a row type"):
        _draft([{"kind": "carousel", "slots": 8, "pinned": "nope"}])
