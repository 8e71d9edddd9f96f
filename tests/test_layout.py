"""Layouts: the shipped files, validation that names file/field/reason, and byte-exact round trips."""

import dataclasses
from pathlib import Path

import pytest

from pagegen.errors import LayoutError
from pagegen.layout import Constraints, Tile, layout_to_toml, load_layout, parse_constraints, parse_layout

LAYOUTS = Path(__file__).resolve().parents[1] / "layouts"
MINIMAL = 'name = "Tiny"\n\n[[tiles]]\nkind = "carousel"\nslots = 5\n'


def test_shipped_layouts():
    layouts = {path.stem: load_layout(path) for path in LAYOUTS.glob("*.toml")}
    assert set(layouts) >= {"default", "mobile", "discovery", "kids", "mixed"}
    default = layouts["default"]
    assert [t.slots for t in default.tiles] == [10] * 8 and default.tiles[0].pinned == "up_next"
    assert "trending" in default.constraints.required_row_types
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
    assert "max_genre_share = 0.3" in saved and 'kind = "banner"' in saved and "repeat = 6" in saved


def test_new_layout_written_from_scratch_reads_back_equal():
    layout = parse_layout(MINIMAL)
    assert parse_layout(layout_to_toml(layout)) == layout


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("name = [", "", "not valid TOML"),
        ('name = "x"\ncolour = "red"\n[[tiles]]\nkind = "carousel"\nslots = 5\n', "colour", "unknown field"),
        ('[[tiles]]\nkind = "carousel"\nslots = 5\n', "name", "is required"),
        ('name = "x"\n', "tiles", "needs at least one"),
        (
            'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = "ten"\n',
            "tiles[0].slots",
            "must be an integer in 3–30, got 'ten'",
        ),
        ('name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 100000\n', "tiles[0].slots", "100000 is outside 3–30"),
        (
            'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 5\nrepeat = 1000\n',
            "tiles[0].repeat",
            "1000 is outside 1–30",
        ),
        (
            'name = "x"\n[[tiles]]\nkind = "poster-wall"\nslots = 5\n',
            "tiles[0].kind",
            "'poster-wall' is not one of carousel, hero, grid, banner",
        ),
        ('name = "x"\n[[tiles]]\nkind = "banner"\nslots = 5\n', "tiles[0].slots", "5 is outside 2–3"),
        ('name = "x"\n[[tiles]]\nkind = "grid"\nrows = 2\n', "tiles[0].columns", "is required"),
        (
            'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 5\npinned = "ads"\n',
            "tiles[0].pinned",
            "'ads' is not a row type",
        ),
        (
            'name = "x"\nallowed_row_types = ["trending"]\n[[tiles]]\nkind = "carousel"\nslots = 5\npinned = "up_next"\n',
            "tiles[0].pinned",
            "'up_next' is not among allowed_row_types",
        ),
        (
            'name = "x"\nmin_tile_kinds = 3\n' + MINIMAL.split("\n", 1)[1],
            "min_tile_kinds",
            "the page has 1 tile kind(s) (carousel), the rule asks for 3",
        ),
        (
            'name = "x"\nmin_items = 20\n' + MINIMAL.split("\n", 1)[1],
            "min_items",
            "the tiles hold 5 items, the rule asks for 20",
        ),
        (MINIMAL + "[constraints]\nmax_genre_share = 3.0\n", "constraints.max_genre_share", "3.0 is outside 0.1–1.0"),
        (MINIMAL + '[constraints]\ndedup = "maybe"\n', "constraints.dedup", "'maybe' is not one of hard, soft"),
        (MINIMAL + "[constraints]\nmin_page_genres = true\n", "constraints.min_page_genres", "must be an integer"),
    ],
)
def test_broken_layouts_name_file_field_and_reason(text, field, reason):
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="upload.toml")
    assert caught.value.source == "upload.toml" and caught.value.field == field
    assert reason in str(caught.value)


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(LayoutError, match=r"missing\.toml cannot be read"):
        load_layout(tmp_path / "missing.toml")


def test_slider_overrides_are_checked_against_their_ranges():
    base = Constraints(max_genre_share=0.5)
    assert parse_constraints({"min_new_items": 4}, base=base) == dataclasses.replace(base, min_new_items=4)
    with pytest.raises(LayoutError, match=r"popularity_beta 2\.5 is outside -1\.0–1\.0"):
        parse_constraints({"popularity_beta": 2.5}, source="slider")
    with pytest.raises(LayoutError, match=r"diversity unknown field"):
        parse_constraints({"diversity": 0.2}, source="slider")
