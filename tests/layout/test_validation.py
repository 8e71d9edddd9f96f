"""Layout validation: every error names the file, the field and the reason; settings stay in range."""

import dataclasses

import pytest

from pagegen.errors import LayoutError, SettingsError
from pagegen.layout import CONSTRAINT_RANGES, LAYOUT_RANGES, Constraints, parse_constraints, parse_layout

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
            "must be a whole number between 3 and 30, got 'ten'",
        ),
        (
            'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 100000\n',
            "tiles[0].slots",
            "between 3 and 30, got 100000",
        ),
        (
            'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 5\nrepeat = 1000\n',
            "tiles[0].repeat",
            "must be a whole number between 1 and 30, got 1000",
        ),
        (
            'name = "x"\n[[tiles]]\nkind = "poster-wall"\nslots = 5\n',
            "tiles[0].kind",
            "'poster-wall' is not one of carousel, hero, grid, banner",
        ),
        ('name = "x"\n[[tiles]]\nkind = "banner"\nslots = 5\n', "tiles[0].slots", "between 2 and 3, got 5"),
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
        (
            MINIMAL + "[constraints]\nmax_genre_share = 3.0\n",
            "constraints.max_genre_share",
            "must be between 0.1 and 1.0, got 3.0",
        ),
        (MINIMAL + '[constraints]\ndedup = "maybe"\n', "constraints.dedup", "must be one of hard, soft, got 'maybe'"),
        (
            MINIMAL + "[constraints]\nmin_page_genres = true\n",
            "constraints.min_page_genres",
            "must be a whole number between 0 and 19, got True",
        ),
        (MINIMAL + "[constraints]\ncolour = 1\n", "constraints.colour", "is unknown; settings: max_genre_share"),
    ],
)
def test_broken_layouts_name_file_field_and_reason(text, field, reason):
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="upload.toml")
    assert caught.value.source == "upload.toml" and caught.value.field == field
    assert reason in str(caught.value)


def test_settings_are_checked_against_their_ranges_and_choices():
    base = Constraints(max_genre_share=0.5)
    assert parse_constraints({"min_new_items": 4}, base=base) == dataclasses.replace(base, min_new_items=4)
    with pytest.raises(
        SettingsError, match=r"^setting popularity_beta must be between -1\.0 and 1\.0, got 2\.5 \(in slider\)$"
    ):
        parse_constraints({"popularity_beta": 2.5}, source="slider")
    with pytest.raises(
        SettingsError, match=r"^setting min_new_items must be a whole number between 0 and 20, got 0\.5 \(in --set\)$"
    ):
        parse_constraints({"min_new_items": 0.5}, source="--set")
    with pytest.raises(SettingsError, match=r"^setting dedup must be one of hard, soft, got 'sometimes'$"):
        parse_constraints({"dedup": "sometimes"})
    with pytest.raises(SettingsError, match=r"^setting required_row_types must be a list of row types \(top_picks, "):
        parse_constraints({"required_row_types": ["ads"]})
    with pytest.raises(SettingsError, match=r"^setting diversity is unknown; settings: max_genre_share, "):
        parse_constraints({"diversity": 0.2}, source="slider")


def test_a_settings_error_is_a_layout_error_naming_where_it_came_from():
    with pytest.raises(LayoutError) as caught:
        parse_constraints({"max_genre_share": 1.5}, source="--set")
    assert isinstance(caught.value, SettingsError)
    assert (caught.value.source, caught.value.field) == ("--set", "max_genre_share")
    assert str(caught.value) == "setting max_genre_share must be between 0.1 and 1.0, got 1.5 (in --set)"
    with pytest.raises(SettingsError, match=r"^setting max_genre_share must be between 0\.1 and 1\.0, got 1\.5$"):
        parse_constraints({"max_genre_share": 1.5})  # the caller's own settings: no source to name


@pytest.mark.parametrize("key", sorted(CONSTRAINT_RANGES))
def test_each_setting_takes_both_ends_of_its_range_and_refuses_just_outside(key):
    bounds = CONSTRAINT_RANGES[key]
    assert getattr(parse_constraints({key: bounds.low}), key) == bounds.low
    assert getattr(parse_constraints({key: bounds.high}), key) == bounds.high
    for outside in (bounds.low - bounds.step, bounds.high + bounds.step):
        with pytest.raises(
            SettingsError, match=rf"^setting {key} must be .*between {bounds.low} and {bounds.high}, got "
        ):
            parse_constraints({key: outside})


@pytest.mark.parametrize("key", sorted(LAYOUT_RANGES))
def test_each_layout_number_takes_both_ends_of_its_range_and_refuses_just_outside(key):
    bounds = LAYOUT_RANGES[key]
    for value in (bounds.low, bounds.high):
        tiles = '[[tiles]]\nkind = "grid"\nrows = 6\ncolumns = 8\nrepeat = 19\n'  # 912 cards
        tiles += "".join(f'[[tiles]]\nkind = "{kind}"\n' for kind in ("carousel", "hero", "banner"))
        tiles = tiles.replace('kind = "carousel"\n', 'kind = "carousel"\nslots = 3\n').replace(
            'kind = "banner"\n', 'kind = "banner"\nslots = 2\n'
        )
        layout = parse_layout(f'name = "x"\n{key} = {value}\n{tiles}')
        assert getattr(layout, key) == value
    for outside in (bounds.low - bounds.step, bounds.high + bounds.step):
        with pytest.raises(
            LayoutError, match=rf"x\.toml: {key} must be .*between {bounds.low} and {bounds.high}, got "
        ):
            parse_layout(f'name = "x"\n{key} = {outside}\n{MINIMAL.split(chr(10), 1)[1]}', source="x.toml")


def test_a_fractional_value_written_as_a_whole_number_reads_as_a_float():
    layout = parse_layout('name = "x"\nrow_decay = 1\n[constraints]\npopularity_beta = 0\n' + MINIMAL.split("\n", 1)[1])
    assert type(layout.row_decay) is float and type(layout.constraints.popularity_beta) is float
