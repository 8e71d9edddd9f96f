"""Each slider's effective rule and steps on a layout, worked out by hand: every step a different rule,
a value between steps acting as the step below it."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from pagegen.layout import (
    SLIDER_RANGES,
    Constraints,
    Layout,
    Tile,
    effective_rule,
    inactive_reason,
    load_layout,
    shipped_layouts,
    slider_steps,
    snap,
    tile_genre_cap,
)
from pagegen.layout.sliders import _RULES
from pagegen.rows.candidates import ANCHORS, GENRE_ROWS


def _carousels(*slots: int, **constraints) -> Layout:
    return Layout("test", tuple(Tile("carousel", n) for n in slots), constraints=Constraints(**constraints))


def test_the_genre_cap_is_the_share_of_a_tile_at_least_one():
    assert tile_genre_cap(0.1, 6) == 1  # ⌊0.6⌋ = 0, but a genre may always show once
    assert tile_genre_cap(0.5, 6) == 3
    assert tile_genre_cap(0.7, 10) == 7  # 0.7 × 10 is 7.000000000000001
    assert tile_genre_cap(0.3334, 6) == 2  # a step written with four decimals keeps its cap
    assert tile_genre_cap(0.29, 100) == 29  # 0.29 × 100 is 28.999999999999996


def test_ten_card_carousels_step_by_a_tenth():
    assert slider_steps("max_genre_share", _carousels(10, 10)) == tuple(c / 10 for c in range(1, 11))


def test_six_card_carousels_step_by_a_sixth_from_the_lowest_share():
    # 0.1 and 1/6 both leave one card of a genre per tile: the lowest step is the range's low end.
    steps = slider_steps("max_genre_share", _carousels(6, 6))
    assert steps == (0.1, 0.3334, 0.5, 0.6667, 0.8334, 1.0)
    assert [tile_genre_cap(step, 6) for step in steps] == [1, 2, 3, 4, 5, 6]


def test_mixed_tile_sizes_step_at_every_tiles_breakpoints():
    layout = Layout("mixed", (Tile("hero", 1), Tile("carousel", 10), Tile("banner", 3)))
    tenths = [c / 10 for c in range(2, 11)]
    thirds = [0.6667, 1.0]  # 2/3 rounded up; a hero's one card never has a cap to change
    assert slider_steps("max_genre_share", layout) == tuple(sorted({0.1, *tenths, *thirds}))
    assert effective_rule("max_genre_share", layout, 0.7).describe() == (
        "at most 7 of 10, 2 of 3 cards per genre (a genre row's own genre aside)"
    )


def test_a_share_between_steps_acts_as_the_step_below():
    mobile = _carousels(6)
    assert snap("max_genre_share", mobile, 0.3) == 0.1  # 0.3 of 6 is 1.8: one card, as at 0.1
    assert effective_rule("max_genre_share", mobile, 0.3) == effective_rule("max_genre_share", mobile, 0.1)
    assert effective_rule("max_genre_share", mobile, 0.3).step == 0.1
    assert effective_rule("max_genre_share", _carousels(10), 0.25).describe() == (
        "at most 2 of 10 cards per genre (a genre row's own genre aside)"
    )


def test_rows_per_type_stop_at_the_most_rows_the_builder_makes_of_one_type():
    assert slider_steps("max_rows_per_type", _carousels(10)) == tuple(range(1, max(ANCHORS, GENRE_ROWS) + 1))
    only_singles = dataclasses.replace(_carousels(10), allowed_row_types=("top_picks", "trending"))
    assert slider_steps("max_rows_per_type", only_singles) == (1,)
    assert snap("max_rows_per_type", _carousels(10), 10) == 3


def test_rows_stop_at_the_rows_the_builder_can_fill():
    kids_types = ("top_picks", "because_you_watched", "trending", "genre", "new_for_you")
    kids = dataclasses.replace(_carousels(8, max_rows_per_type=2), allowed_row_types=kids_types)
    assert slider_steps("rows", kids) == tuple(range(1, 1 + 2 + 1 + 2 + 1 + 1))  # because-you-watched and genre: 2


def test_page_genres_stop_at_the_catalogues_genres_and_skip_one():
    layout = _carousels(10, 10)
    assert slider_steps("min_page_genres", layout, catalogue_genres=("Comedy", "Drama", "Horror")) == (0, 2, 3)
    kids = _carousels(8, allowed_genres=("Children's", "Animation", "Children"))
    assert slider_steps("min_page_genres", kids, catalogue_genres=("Children's", "Animation", "Drama")) == (0, 2)
    assert snap("min_page_genres", layout, 1, catalogue_genres=("Comedy", "Drama")) == 0  # any page has a genre


def test_new_items_stop_at_the_pages_cards():
    assert slider_steps("min_new_items", _carousels(3, 3)) == tuple(range(0, 3 + 3 + 1))


def test_grid_settings_take_their_ranges_steps_and_end():
    assert slider_steps("min_relevance_quantile", _carousels(10))[-3:] == (0.9, 0.95, 0.99)
    assert slider_steps("popularity_beta", _carousels(10))[:3] == (-1.0, -0.9, -0.8)
    assert slider_steps("slots", Layout("grid only", (Tile("grid", 8, columns=4),))) == ()


def test_the_penalty_acts_only_with_soft_deduplication():
    hard, soft = _carousels(10, dedup="hard"), _carousels(10, dedup="soft")
    assert "soft de-duplication" in inactive_reason("dedup_penalty", hard)
    assert inactive_reason("dedup_penalty", soft) is None
    assert effective_rule("dedup_penalty", hard, 0.2) == effective_rule("dedup_penalty", hard, 0.8)
    assert effective_rule("dedup_penalty", soft, 0.2).describe() == "each repeated card costs 0.20 of score"


def test_every_slider_has_a_rule_and_an_unknown_one_is_named():
    assert set(_RULES) == set(SLIDER_RANGES)
    with pytest.raises(KeyError, match="'diversity' is not a slider; sliders: max_genre_share"):
        slider_steps("diversity", _carousels(10))


@pytest.mark.parametrize("name", sorted(shipped_layouts()))
@pytest.mark.parametrize("setting", sorted(SLIDER_RANGES))
def test_adjacent_steps_differ_in_effective_rule_on_every_shipped_layout(name, setting):
    layout = load_layout(shipped_layouts()[name])
    if setting == "dedup_penalty":  # it acts only there (and its slider is disabled on a hard page)
        layout = dataclasses.replace(layout, constraints=dataclasses.replace(layout.constraints, dedup="soft"))
    steps = slider_steps(setting, layout)
    rules = [effective_rule(setting, layout, step) for step in steps]
    assert all(rule.step == step for rule, step in zip(rules, steps, strict=True))  # a step is its own step
    assert all(a != b and a.describe() != b.describe() for a, b in itertools.pairwise(rules))
    bounds = SLIDER_RANGES[setting]
    assert all(bounds.low <= step <= bounds.high for step in steps)
    if steps:  # the layout's own value is on, or acts as, one of them
        own = getattr(layout.constraints, setting, None)
        assert own is None or snap(setting, layout, own) in steps
