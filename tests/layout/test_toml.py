"""Layout files: the shipped ones, byte-exact round trips, atomic saves and uploads read as data."""

import dataclasses
from pathlib import Path

import pytest

from pagegen.errors import LayoutError
from pagegen.layout import (
    Tile,
    layout_file_name,
    layout_to_toml,
    load_layout,
    parse_layout,
    parse_upload,
    resize_layout,
    resolve_layout,
    save_layout,
)

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
MINIMAL = 'name = "Tiny"\n\n[[tiles]]\nkind = "carousel"\nslots = 5\n'


def test_shipped_layouts():
    layouts = {path.stem: load_layout(path) for path in LAYOUTS.glob("*.toml")}
    assert set(layouts) >= {"default", "mobile", "discovery", "kids", "mixed"}
    default = layouts["default"]
    assert [t.slots for t in default.tiles] == [10] * 8 and all(t.pinned is None for t in default.tiles)
    assert set(default.constraints.required_row_types) == {"up_next", "trending"}
    assert [t.slots for t in layouts["mobile"].tiles] == [6] * 4
    assert (
        layouts["discovery"].constraints.popularity_beta < 0
        and "explore" in layouts["discovery"].constraints.required_row_types
    )
    assert set(layouts["kids"].constraints.allowed_genres) >= {"Children's", "Animation"}
    mixed = layouts["mixed"]
    assert {t.kind for t in mixed.tiles} == {"hero", "carousel", "grid", "banner"}
    assert mixed.total_slots == 1 + 3 * 10 + 2 * 4 + 3 >= mixed.min_items == 20


@pytest.mark.parametrize("path", sorted(LAYOUTS.glob("*.toml")), ids=lambda p: p.name)
def test_unchanged_layout_saves_byte_identical(path):
    text = path.read_text()
    assert layout_to_toml(load_layout(path), original=text) == text


def test_edit_then_save_keeps_comments_and_changes_only_what_changed():
    text = (LAYOUTS / "default.toml").read_text()
    layout = load_layout(LAYOUTS / "default.toml")
    tiles = (*layout.tiles[:-1], Tile(kind="banner", slots=3))
    edited = dataclasses.replace(
        layout, tiles=tiles, constraints=dataclasses.replace(layout.constraints, max_genre_share=0.3)
    )
    saved = layout_to_toml(edited, original=text)
    assert parse_layout(saved) == edited
    assert "# no genre fills more than half of a row" in saved  # comments survive, even on the changed line
    assert "max_genre_share = 0.3" in saved and 'kind = "banner"' in saved and "repeat = 7" in saved


def test_new_layout_written_from_scratch_reads_back_equal():
    layout = parse_layout(MINIMAL)
    assert parse_layout(layout_to_toml(layout)) == layout


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(LayoutError, match=r"missing\.toml cannot be read"):
        load_layout(tmp_path / "missing.toml")


def test_saving_is_atomic_refuses_to_replace_and_keeps_comments(tmp_path):
    layout = parse_layout('name = "My Page / ../x"\n[[tiles]]\nkind = "carousel"\nslots = 12\nrepeat = 2\n')
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
        (
            b'name = "a"\n[[tiles]]\nkind = "carousel"\nslots = "ten"\n',
            "must be a whole number between 3 and 30, got 'ten'",
        ),
        (
            b'name = "a"\nrow_decay = 1e308\n[[tiles]]\nkind = "carousel"\nslots = 9\n',
            "row_decay must be between 0.01 and 1.0, got 1e+308",
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
