"""The layout designer's data side: form records to a validated layout, saving, uploads, page size."""

import pytest

from pagegen.app.designer import draft_layout, tile_records
from pagegen.errors import LayoutError
from pagegen.layout import (
    layout_file_name,
    layout_to_toml,
    load_layout,
    parse_upload,
    resize_layout,
    resolve_layout,
    save_layout,
)


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


def test_saving_is_atomic_refuses_to_replace_and_keeps_comments(tmp_path):
    layout = _draft([{"kind": "carousel", "slots": 12}, {"kind": "carousel", "slots": 12}], name="My Page / ../x")
    path = save_layout(layout, tmp_path)
    assert path == tmp_path / "my-page-x.toml" and load_layout(path) == layout
    with pytest.raises(LayoutError, match="exists; choose another name or overwrite"):
        save_layout(layout, tmp_path)
    path.write_text("# my notes\n" + path.read_text())
    changed = resize_layout(layout, slots=14)
    save_layout(changed, tmp_path, overwrite=True)
    assert path.read_text().startswith("# my notes") and load_layout(path) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-page-x.toml"]  # no temporary files left
    with pytest.raises(LayoutError, match="no letters or digits"):
        layout_file_name("../..")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x" * 70_000, "70,000 bytes; a layout file is at most 64,000"),
        (b"\xff\xfe", "is not UTF-8 text"),
        (b"name = [", "not valid TOML"),
        (b'name = "a"\n[[tiles]]\nkind = "carousel"\nslots = "ten"\n', "must be an integer in 3–30, got 'ten'"),
        (
            b'name = "a"\nrow_decay = 1e308\n[[tiles]]\nkind = "carousel"\nslots = 9\n',
            "row_decay 1e+308 is outside 0.01–1.0",
        ),
    ],
)
def test_uploads_are_checked_as_data(content, message):
    with pytest.raises(LayoutError, match=message.replace("+", r"\+").replace("[", r"\[")):
        parse_upload(content)


def test_an_upload_parses_to_its_layout_and_text():
    text = layout_to_toml(resolve_layout("kids"))
    layout, back = parse_upload(text.encode())
    assert back == text and layout == resolve_layout("kids")


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
