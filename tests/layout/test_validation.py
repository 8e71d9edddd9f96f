"""Layout validation: every error names the file, the field and the reason; settings stay in range."""

import dataclasses

import pytest

from pagegen.errors import LayoutError
from pagegen.layout import Constraints, parse_constraints, parse_layout

MINIMAL = 'name = "Tiny"\n\n[[tiles]]\nkind = "carousel"\nslots = 5\n'


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


def test_slider_overrides_are_checked_against_their_ranges():
    base = Constraints(max_genre_share=0.5)
    assert parse_constraints({"min_new_items": 4}, base=base) == dataclasses.replace(base, min_new_items=4)
    with pytest.raises(LayoutError, match=r"popularity_beta 2\.5 is outside -1\.0–1\.0"):
        parse_constraints({"popularity_beta": 2.5}, source="slider")
    with pytest.raises(LayoutError, match=r"diversity unknown field"):
        parse_constraints({"diversity": 0.2}, source="slider")
