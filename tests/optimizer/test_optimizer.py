"""The optimizer on hand-made candidate sets whose best page can be worked out on paper.

Attention in these layouts halves down the page and along a tile (row_decay = slot_decay = 0.5), so
a card's worth is its score times 1, 1/2, 1/4… and the expected objectives are written as that sum.
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

import pagegen.optimizer as optimizer_module
from pagegen.errors import ConfigError
from pagegen.layout import Constraints, Layout, Tile, with_asked_tiles
from pagegen.optimizer import GAP, NODE_LIMIT, optimize, prepare_problem
from pagegen.optimizer.baselines import greedy_page
from pagegen.optimizer.decompose import DecompositionResult, decompose
from pagegen.optimizer.ilp import build_page_problem, solve_page_model
from pagegen.optimizer.page import SolverReport, assemble_page, page_objective, unmet_constraints
from pagegen.optimizer.pricing import Pieces
from pagegen.optimizer.repair import cards_by_assignment
from pagegen.rows import CandidateRow, ItemFacts, RowReason

FREE = Constraints(max_genre_share=1.0, min_page_genres=0, min_relevance_quantile=0.0, max_rows_per_type=10)


def row(row_type: str, items: list[int], scores: list[float], key: str = "", genres: tuple[str, ...] = ()):
    return CandidateRow(
        row_id=f"{row_type}:{key}" if key else row_type,
        reason=RowReason(row_type, "test", genres=genres),
        items=tuple(items),
        scores=tuple(scores),
        relevance=tuple(1.0 for _ in items),
        title=f"{row_type} {key}".strip(),
    )


def facts(genres: dict[int, tuple[str, ...]] | None = None, new: set[int] = frozenset(), items=range(1, 40)):
    genres = genres or {}
    return {item: ItemFacts(f"Item {item}", 2000, genres.get(item, ("Drama",)), item in new, 0.5) for item in items}


def layout(*tiles: Tile, **constraints) -> Layout:
    return Layout(
        name="test",
        tiles=tiles,
        row_decay=0.5,
        slot_decay=0.5,
        constraints=Constraints(**{**FREE.__dict__, **constraints}),
    )


def carousels(count: int, slots: int = 3) -> list[Tile]:
    return [Tile("carousel", slots) for _ in range(count)]


def solve(rows, page_layout, item_facts=None, optimizer="ilp"):
    problem = prepare_problem(rows, item_facts or facts(), page_layout)
    return optimize(problem, optimizer)


def shown(page) -> list[tuple[str, list[int]]]:
    return [(r.row_id, [item.item_id for item in r.items]) for r in page.rows]


def test_the_best_row_goes_on_top_and_cards_run_best_first():
    rows = [
        row("genre", [4, 5, 6], [0.5, 0.5, 0.5], "a"),
        row("top_picks", [1, 2, 3], [1.0, 0.8, 0.6]),
        row("trending", [7, 8, 9], [0.8, 0.8, 0.8]),
    ]
    page = solve(rows, layout(*carousels(2)))
    assert shown(page) == [("top_picks", [1, 2, 3]), ("trending", [7, 8, 9])]
    assert page.report.status == "optimal"
    assert page.report.objective == pytest.approx((1.0 + 0.8 / 2 + 0.6 / 4) + (0.8 + 0.8 / 2 + 0.8 / 4) / 2)


SHARED_TOP = [
    row("top_picks", [1, 2, 3, 4], [1.0, 0.9, 0.8, 0.1]),
    row("trending", [1, 5, 6, 7], [1.0, 0.6, 0.5, 0.4]),
]


def test_hard_dedup_keeps_an_item_once_and_picks_the_better_of_the_two_orders():
    page = solve(SHARED_TOP, layout(*carousels(2)))
    # top picks first with 1, 2, 3 (1 + .9/2 + .8/4 = 1.65), trending gives up item 1: (.6 + .5/2 + .4/4) / 2
    # beats trending first (1 + .6/2 + .5/4 = 1.425) with top picks on 2, 3, 4: (.9 + .8/2 + .1/4) / 2
    assert shown(page) == [("top_picks", [1, 2, 3]), ("trending", [5, 6, 7])]
    assert page.report.objective == pytest.approx(1.65 + 0.95 / 2)


def test_soft_dedup_repeats_an_item_when_the_penalty_is_worth_paying():
    free = solve(SHARED_TOP, layout(*carousels(2), dedup="soft", dedup_penalty=0.0))
    assert shown(free) == [("top_picks", [1, 2, 3]), ("trending", [1, 5, 6])]
    assert free.report.objective == pytest.approx(1.65 + (1 + 0.6 / 2 + 0.5 / 4) / 2)
    # a penalty of 0.3 charges the repeat 0.3 × 1.0 (item 1's best score), more than it gains
    # ((1.425 − 0.95) / 2 = 0.2375): no repeat
    costly = solve(SHARED_TOP, layout(*carousels(2), dedup="soft", dedup_penalty=0.3))
    assert shown(costly) == [("top_picks", [1, 2, 3]), ("trending", [5, 6, 7])]
    assert costly.report.objective == pytest.approx(1.65 + 0.95 / 2)
    # a penalty of 0.1 charges 0.1 × 1.0, less than the gain: the repeat pays, and is charged
    cheap = solve(SHARED_TOP, layout(*carousels(2), dedup="soft", dedup_penalty=0.1))
    assert shown(cheap) == [("top_picks", [1, 2, 3]), ("trending", [1, 5, 6])]
    assert cheap.report.objective == pytest.approx(1.65 + (1 + 0.6 / 2 + 0.5 / 4) / 2 - 0.1 * 1.0)


def test_a_repeat_is_charged_the_penalty_times_the_items_value_on_any_score_scale():
    # Calibrated probabilities (a few hundredths): item 1 (0.04) could repeat on the second tile's first
    # card, looked at with attention row_decay, instead of item 3 (0.001). The repeat is worth
    # row_decay × 0.04 − penalty × 0.04: at penalty 0.5 it pays where attention is above 0.5 only, and at
    # penalty 1 it never does.
    rows = [row("top_picks", [1, 2], [0.04, 0.03]), row("trending", [1, 3, 4], [0.04, 0.001, 0.001])]

    def page(row_decay, penalty):
        constraints = Constraints(**{**FREE.__dict__, "dedup": "soft", "dedup_penalty": penalty})
        return Layout("test", tuple(carousels(2, 2)), row_decay=row_decay, slot_decay=0.5, constraints=constraints)

    top = 0.04 + 0.03 / 2
    for solved in (solve, exact):
        repeated = solved(rows, page(0.8, 0.5))
        assert shown(repeated) == [("top_picks", [1, 2]), ("trending", [1, 3])]
        assert repeated.report.objective == pytest.approx(top + 0.8 * (0.04 + 0.001 / 2) - 0.5 * 0.04)
        kept_once = solved(rows, page(0.4, 0.5))
        assert shown(kept_once) == [("top_picks", [1, 2]), ("trending", [3, 4])]
        assert kept_once.report.objective == pytest.approx(top + 0.4 * (0.001 + 0.001 / 2))
        never = solved(rows, page(1.0, 1.0))
        assert shown(never) == [("top_picks", [1, 2]), ("trending", [3, 4])]
        assert never.report.objective == pytest.approx(top + 1.0 * (0.001 + 0.001 / 2))


def test_genre_share_caps_a_genre_in_a_row_but_not_a_genre_rows_own_genre():
    genres = {1: ("Horror",), 2: ("Horror",), 3: ("Horror",), 4: ("Comedy",), 5: ("Drama",)}
    picks = row("top_picks", [1, 2, 3, 4, 5], [1.0, 0.9, 0.8, 0.2, 0.1])
    page = solve([picks], layout(Tile("carousel", 3), max_genre_share=0.34), facts(genres))
    assert shown(page) == [("top_picks", [1, 4, 5])]  # one Horror card of three at most
    horror_row = row("genre", [1, 2, 3, 4, 5], [1.0, 0.9, 0.8, 0.2, 0.1], "Horror", genres=("Horror",))
    page = solve([horror_row], layout(Tile("carousel", 3), max_genre_share=0.34), facts(genres))
    assert shown(page) == [("genre:Horror", [1, 2, 3])]


def test_page_genre_minimum_brings_in_a_lower_scored_genre():
    genres = {1: ("Drama",), 2: ("Drama",), 3: ("Drama",), 4: ("Drama",), 5: ("Western",)}
    picks = row("top_picks", [1, 2, 3, 4, 5], [1.0, 0.9, 0.8, 0.7, 0.1])
    assert shown(solve([picks], layout(Tile("carousel", 3)), facts(genres))) == [("top_picks", [1, 2, 3])]
    page = solve([picks], layout(Tile("carousel", 3), min_page_genres=2), facts(genres))
    assert shown(page) == [("top_picks", [1, 2, 5])]
    assert page.report.relaxations == ()


def test_new_item_minimum_and_required_row_type():
    picks = row("top_picks", [1, 2, 3, 4], [1.0, 0.9, 0.8, 0.7])
    fresh = row("new_for_you", [10, 11, 12], [0.3, 0.2, 0.1])
    trending = row("trending", [20, 21, 22], [0.2, 0.2, 0.2])
    page = solve([picks, fresh], layout(Tile("carousel", 3), min_new_items=1), facts(new={4, 10}))
    assert shown(page) == [("top_picks", [1, 2, 4])]  # 4 is new and cheaper to show than a new row
    page = solve([picks, fresh, trending], layout(*carousels(2), required_row_types=("trending",)))
    assert [r.row_id for r in page.rows] == ["top_picks", "trending"]


def test_pinned_tile_and_rows_per_type_cap():
    rows = [
        row("top_picks", [1, 2, 3], [1.0, 1.0, 1.0]),
        row("genre", [4, 5, 6], [0.9, 0.9, 0.9], "a"),
        row("genre", [7, 8, 9], [0.8, 0.8, 0.8], "b"),
        row("up_next", [10, 11, 12], [0.1, 0.1, 0.1]),
    ]
    pinned = layout(Tile("carousel", 3, pinned="up_next"), *carousels(2))
    page = solve(rows, pinned)
    assert [r.row_id for r in page.rows] == ["up_next", "top_picks", "genre:a"]
    # The page says why a row worth less (0.1 a card) sits above rows worth more; free rows need no word.
    assert [r.order_note for r in page.rows] == ["above rows worth more: the layout pins up next to this tile", "", ""]
    capped = layout(*carousels(3), max_rows_per_type=1)
    assert [r.row_id for r in solve(rows, capped).rows] == ["top_picks", "genre:a", "up_next"]


def test_item_rules_filter_candidates_before_the_optimizer():
    picks = CandidateRow(
        "top_picks", RowReason("top_picks", "test"), (1, 2, 3, 4), (1.0, 0.9, 0.8, 0.7), (0.9, 0.2, 0.8, 0.7), "t"
    )
    genres = {1: ("Animation",), 2: ("Animation",), 3: ("Horror",), 4: ("Children's", "Comedy")}
    problem = prepare_problem(
        [picks],
        facts(genres),
        layout(Tile("carousel", 3), min_relevance_quantile=0.5, allowed_genres=("Animation", "Children's")),
    )
    assert problem.rows[0].items == (1, 4)  # 2 is below the relevance floor, 3 outside the allowed genres
    no_rows = prepare_problem(
        [picks], facts(genres), Layout("t", (Tile("carousel", 3),), allowed_row_types=("trending",))
    )
    assert no_rows.rows == ()


def test_contradictory_constraints_relax_cheapest_first_and_still_give_a_page():
    # Three new items are all Horror; Comedy and Western are not new. Three genres on one row of three
    # cards leaves room for one new item: the page keeps the genres and gives up two new items.
    genres = {1: ("Horror",), 2: ("Horror",), 3: ("Horror",), 4: ("Comedy",), 5: ("Western",)}
    picks = row("top_picks", [1, 2, 3, 4, 5], [1.0, 0.9, 0.8, 0.7, 0.6])
    page = solve([picks], layout(Tile("carousel", 3), min_new_items=3, min_page_genres=3), facts(genres, new={1, 2, 3}))
    assert shown(page) == [("top_picks", [1, 4, 5])]
    assert [(r.constraint, r.asked, r.got) for r in page.report.relaxations] == [("min_new_items", 3, 1)]


def test_missing_row_types_are_reported_not_fatal():
    rows = [row("top_picks", [1, 2, 3], [1.0, 1.0, 1.0])]
    page = solve(
        rows, layout(Tile("carousel", 3, pinned="up_next"), Tile("carousel", 3), required_row_types=("explore",))
    )
    assert shown(page) == [("top_picks", [1, 2, 3])]
    assert {r.constraint for r in page.report.relaxations} == {
        "required_row_types.explore",
        "tiles[0].pinned",
        "fill_every_tile",
    }


def test_mixed_tile_sizes_take_their_own_card_counts():
    rows = [row("top_picks", list(range(1, 9)), [1.0] * 8), row("trending", list(range(11, 19)), [0.5] * 8)]
    page = solve(rows, layout(Tile("hero", 1), Tile("grid", 4, columns=2), Tile("banner", 2)))
    assert [len(r.items) for r in page.rows] == [1, 4]  # two rows fill two of the three tiles
    assert page.rows[0].kind == "hero" and page.rows[0].row_id == "top_picks"


def random_problem(seed: int, variant: int = 0):
    """Six rows of nine candidates over 40 items, on four carousels of four cards; ``variant`` 1 allows
    repeats at a charge, 2 pushes scores below zero (the long-tail slider), 3 mixes tile kinds (at a
    genre share of 0.7: at 0.5 a banner's three cards of two genres each could never be filled). Variants 4 and 5 ask for every genre and three new
    items; 4 requires a genre row though both genre rows score low, 5 allows one row per type though
    both genre rows score high: the rules the decomposition prices all bind."""
    rng = random.Random(seed)
    genre_names = ["Drama", "Comedy", "Horror", "Action", "Western"]
    item_facts = {
        item: ItemFacts(f"Item {item}", 2000, tuple(rng.sample(genre_names, 2)), rng.random() < 0.2, 0.5)
        for item in range(1, 41)
    }
    if variant in (4, 5):  # Westerns rare (items 6, 12, …): showing all five genres has a price
        for item, facts in item_facts.items():
            if "Western" in facts.genres and item % 6:
                kept = [g for g in facts.genres if g != "Western"]
                genres = (*kept, next(g for g in genre_names if g not in {*kept, "Western"}))
                item_facts[item] = dataclasses.replace(facts, genres=genres)
    shift = -0.8 if variant == 2 else 0.0
    rows = []
    for index, row_type in enumerate(["top_picks", "trending", "genre", "genre", "hidden_gems", "explore"]):
        items = rng.sample(range(1, 41), 9)
        scores = sorted((round(rng.random() + shift, 3) for _ in items), reverse=True)
        if row_type == "genre" and variant in (4, 5):
            scores = [round(score * 0.2 if variant == 4 else 1 + score, 3) for score in scores]
        rows.append(row(row_type, items, scores, str(index)))
    constraints = dict(max_genre_share=0.5, min_page_genres=4, min_new_items=1)
    if variant == 1:
        constraints |= dict(dedup="soft", dedup_penalty=0.3)
    if variant in (4, 5):
        constraints |= dict(min_page_genres=5, min_new_items=3)
        constraints |= dict(required_row_types=("genre",)) if variant == 4 else dict(max_rows_per_type=1)
    tiles = carousels(4, 4)
    if variant == 3:
        constraints |= dict(max_genre_share=0.7)
        tiles = [
            Tile("hero", 1, pinned="top_picks"),
            Tile("carousel", 5),
            Tile("grid", 4, columns=2),
            Tile("banner", 3),
        ]
    return prepare_problem(rows, item_facts, layout(*tiles, **constraints))


def exact(rows, page_layout, item_facts=None):
    """The page by the PuLP model alone (the decomposition proving nothing)."""
    problem = prepare_problem(rows, item_facts or facts(), page_layout)
    model = build_page_problem(problem)
    result = solve_page_model(model, node_limit=100_000, round_limit=100_000, gap=1e-7)
    report = SolverReport("ilp", result.status, page_objective(problem, result.placements),
                          relaxations=unmet_constraints(problem, result.placements))  # fmt: skip
    return assemble_page(problem, result.placements, report)


RELAXABLE = {"min_new_items", "min_page_genres", "fill_every_tile", "min_items"}


@pytest.mark.parametrize("seed", range(8))
def test_ilp_is_never_worse_than_its_baselines_on_the_same_objective(seed):
    problem = random_problem(seed)
    page = optimize(problem, "ilp")
    for name in ("greedy", "mmr"):
        baseline = optimize(problem, name)
        if not baseline.report.relaxations:  # a baseline page that keeps every rule is a page the ILP may pick
            assert page.report.objective >= baseline.report.objective - 1e-6
        assert page.report.baselines[name]["objective"] == pytest.approx(baseline.report.objective)


def test_greedy_temperature_lets_repeats_fade_in_soft_mode():
    problem = prepare_problem(SHARED_TOP, facts(), layout(*carousels(2), dedup="soft", dedup_penalty=0.0))
    assert [p.candidates for p in greedy_page(problem)] == [(0, 1, 2), (0, 1, 2)]  # penalty factor 1: repeats
    hard = prepare_problem(SHARED_TOP, facts(), layout(*carousels(2)))
    placements = greedy_page(hard)
    assert [p.candidates for p in placements] == [(0, 1, 2), (1, 2, 3)]
    assert page_objective(hard, placements) == pytest.approx(1.65 + 0.95 / 2)


def test_same_inputs_give_byte_identical_page_json():
    first, second = optimize(random_problem(3)), optimize(random_problem(3))
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(), sort_keys=True)
    assert "solve_seconds" not in first.to_dict()["report"] and "solve_seconds" in first.to_dict(timings=True)["report"]


def unproven(problem, start, **kwargs):
    """A decomposition that proves nothing and finds nothing better than its start."""
    return DecompositionResult(tuple(start), None, False, 0)


def test_a_missing_solver_still_gives_the_best_page_found(monkeypatch):
    problem = random_problem(1)

    def missing(*args, **kwargs):
        raise ImportError("No module named 'highspy'")

    monkeypatch.setattr(optimizer_module, "decompose", unproven)
    monkeypatch.setattr(optimizer_module, "build_page_problem", missing)
    page = optimize(problem)
    assert page.report.status == "unproven" and page.report.optimizer == "ilp"
    assert "HiGHS solver is not installed" in page.report.message
    best_baseline = max(optimize(problem, name).report.objective for name in ("greedy", "mmr"))
    assert page.report.objective == pytest.approx(best_baseline) and page.report.gap is None


def test_unknown_optimizer_is_named():
    with pytest.raises(ConfigError, match="unknown optimizer 'cplex'; choose one of ilp, greedy, mmr"):
        optimize(random_problem(0), "cplex")


def test_the_solver_stops_on_a_node_count_and_never_returns_less_than_its_start(monkeypatch):
    monkeypatch.setattr(optimizer_module, "decompose", unproven)
    problem = random_problem(2)
    first, second = optimize(problem, node_limit=1), optimize(problem, node_limit=1)
    assert first.report.status in ("optimal", "limit") and first.rows
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())  # a count, not a clock, ends the solve
    best_baseline = max(optimize(problem, name).report.objective for name in ("greedy", "mmr"))
    assert first.report.objective >= best_baseline - 1e-6


def test_greedy_places_a_required_row_while_it_can_still_be_filled():
    rows = [
        row("top_picks", [1, 2, 3], [1.0, 1.0, 1.0]),
        row("genre", [4, 5, 6], [0.9, 0.9, 0.9], "a"),
        row("trending", [1, 2, 3], [0.5, 0.5, 0.5]),  # the same items as top picks
    ]
    page_layout = layout(*carousels(2), required_row_types=("trending",))
    greedy = solve(rows, page_layout, optimizer="greedy")
    assert [r.row_id for r in greedy.rows] == ["trending", "genre:a"] and greedy.report.relaxations == ()
    best = solve(rows, page_layout)
    assert [r.row_id for r in best.rows] == ["genre:a", "trending"]  # the ILP also orders them by value
    assert best.report.objective == pytest.approx(0.9 * 1.75 + 0.5 * 0.5 * 1.75)


# The defects of issue 11, each on a page small enough to work out by hand.


def test_rows_with_negative_scores_still_fill_a_pinned_tile():
    # The long-tail slider (β < 0) can push every score below zero; the pinned row is still shown.
    rows = [row("up_next", [1, 2], [-0.2, -0.4]), row("top_picks", [3, 4], [-0.1, -0.1])]
    page_layout = layout(Tile("carousel", 2, pinned="up_next"), Tile("carousel", 2))
    for page in (solve(rows, page_layout), exact(rows, page_layout)):
        assert shown(page) == [("up_next", [1, 2]), ("top_picks", [3, 4])]
        assert page.report.objective == pytest.approx((-0.2 - 0.4 / 2) + (-0.1 - 0.1 / 2) / 2)
        assert page.report.relaxations == () and page.report.status == "optimal"


def test_relaxations_are_lexicographic_not_priced_per_unit():
    # Eleven new Drama films, or eleven old films of two genres: page genres rank above new items, so
    # the page gives up all eleven new items rather than one genre.
    genres = {i: ("Drama",) for i in range(1, 12)} | {i: ("Comedy", "Western") for i in range(21, 32)}
    rows = [row("top_picks", list(range(1, 12)), [1.0] * 11), row("trending", list(range(21, 32)), [0.1] * 11)]
    page_layout = layout(Tile("carousel", 11), min_new_items=11, min_page_genres=2)
    item_facts = facts(genres, new=set(range(1, 12)), items=[*range(1, 12), *range(21, 32)])
    for page in (solve(rows, page_layout, item_facts), exact(rows, page_layout, item_facts)):
        assert [r.row_id for r in page.rows] == ["trending"]
        assert [(r.constraint, r.asked, r.got) for r in page.report.relaxations] == [("min_new_items", 11, 0)]


def test_new_items_count_once_however_often_they_are_shown():
    # Soft de-duplication at no charge would show item 1 in both rows; two *distinct* new items are asked
    # for, so trending gives its second card to new item 5 (0.1) instead of item 4 (0.9).
    rows = [row("top_picks", [1, 2, 3], [1.0, 0.9, 0.1]), row("trending", [1, 4, 5], [1.0, 0.9, 0.1])]
    page_layout = layout(*carousels(2, 2), dedup="soft", dedup_penalty=0.0, min_new_items=2)
    item_facts = facts(new={1, 5})
    for page in (solve(rows, page_layout, item_facts), exact(rows, page_layout, item_facts)):
        assert shown(page) == [("top_picks", [1, 2]), ("trending", [1, 5])]
        assert page.report.objective == pytest.approx((1.0 + 0.9 / 2) + (1.0 + 0.1 / 2) / 2)
        assert page.report.relaxations == ()


def test_a_row_is_shown_full_or_not_at_all():
    # Top picks has three candidates for a tile of four cards: trending (0.1 each) fills the tile instead.
    rows = [row("top_picks", [1, 2, 3], [1.0, 1.0, 1.0]), row("trending", [11, 12, 13, 14], [0.1] * 4)]
    page = solve(rows, layout(Tile("carousel", 4)))
    assert shown(page) == [("trending", [11, 12, 13, 14])]
    assert page.report.objective == pytest.approx(0.1 * (1 + 1 / 2 + 1 / 4 + 1 / 8))
    # With no row long enough the tile stays empty, and the report says why.
    short = solve(rows[:1], layout(Tile("carousel", 4)))
    assert short.rows == ()
    assert [(r.constraint, r.asked, r.got) for r in short.report.relaxations] == [("fill_every_tile", 1, 0)]
    assert "0 of 1 candidate rows have enough items" in short.report.relaxations[0].note


def test_the_genre_share_counts_the_cards_shown():
    # Four cards at a share of 0.5: two Horror cards at most, though the row has five Horror candidates.
    genres = {i: ("Horror",) for i in range(1, 6)} | {6: ("Comedy",), 7: ("Drama",)}
    picks = row("top_picks", list(range(1, 8)), [1.0, 0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    page = solve([picks], layout(Tile("carousel", 4), max_genre_share=0.5), facts(genres))
    assert shown(page) == [("top_picks", [1, 2, 6, 7])]


# The seeded problems of the bound checks: each variant on two seeds, and the variants whose priced
# rules all bind (a required type of several rows, a per-type cap, every genre and three new items).
BOUND_CASES = [(seed, seed % 4) for seed in range(8)] + [(2, 4), (3, 4), (2, 5), (7, 5)]


@pytest.mark.parametrize(("seed", "variant"), BOUND_CASES)
def test_the_decomposition_and_the_pulp_model_are_the_same_program(seed, variant):
    # The PuLP model solved to optimality: the fast path's bound is computed and never below its optimum
    # (started from that optimum, the decomposition bounds every page that keeps as much, so it must
    # reach a bound), a page the fast path calls proven is within the gap of it, and the page
    # optimize() returns (the fast path, then the model from its best page) keeps the same rules and is
    # within the gap too.
    problem = random_problem(seed, variant)
    model = build_page_problem(problem)
    best = solve_page_model(model, node_limit=100_000, round_limit=100_000, gap=1e-7)
    assert best.status == "optimal"
    optimum = page_objective(problem, best.placements)
    bounded = decompose(problem, best.placements, gap=0.0)  # every step: the lowest bound it reaches
    assert bounded.bound is not None and bounded.bound >= optimum - 1e-6
    fast = decompose(problem, greedy_page(problem), gap=GAP)
    assert fast.bound is None or fast.bound >= optimum - 1e-6
    pages = [optimize(problem).report]
    for result in (bounded, fast):
        if result.proven:
            pages.append(SolverReport("ilp", "optimal", page_objective(problem, result.placements),
                                      relaxations=unmet_constraints(problem, result.placements)))  # fmt: skip
    for report in pages:
        assert report.objective >= optimum - GAP * abs(optimum) - 1e-6
        assert [r.constraint for r in report.relaxations] == [
            r.constraint for r in unmet_constraints(problem, best.placements)
        ]
        assert not {r.constraint for r in report.relaxations} - RELAXABLE


def test_the_bound_cases_reach_every_priced_rule():
    # What the bound checks rely on: the variants price a required type of several rows and a per-type
    # cap, and their coverage rules bind (three new items and all five genres asked).
    required, capped = Pieces(random_problem(2, 4)), Pieces(random_problem(2, 5))
    assert required.required_types == ["genre"] and not required.forced
    assert capped.capped_types == ["genre"]
    assert (required.reachable_new, required.reachable_genres) == (3, 5)


def test_the_decomposition_proves_pages_on_its_own():
    # Pages of full, deep rows (the product's case): the bound meets the best page within the gap.
    genres = ["Drama", "Comedy", "Horror", "Action", "Western", "Crime"]
    rng = random.Random(7)
    item_facts = {i: ItemFacts(f"Item {i}", 2000, tuple(rng.sample(genres, 2)), False, 0.5) for i in range(1, 121)}
    rows = [
        row(kind, sorted(rng.sample(range(1, 121), 24)), sorted((rng.random() for _ in range(24)), reverse=True), key)
        for kind, key in [("top_picks", ""), ("trending", ""), ("genre", "a"), ("genre", "b"), ("hidden_gems", "")]
    ]
    problem = prepare_problem(rows, item_facts, layout(*carousels(4, 6), max_genre_share=0.5))
    fast = decompose(problem, greedy_page(problem), gap=GAP)
    best = solve_page_model(build_page_problem(problem), node_limit=100_000, round_limit=100_000, gap=1e-7)
    assert fast.proven and fast.bound >= page_objective(problem, best.placements) - 1e-6
    assert page_objective(problem, fast.placements) >= (1 - GAP) * page_objective(problem, best.placements)


@pytest.mark.parametrize("optimizer", ["ilp", "greedy", "mmr"])
def test_tiles_pinned_to_row_ids_take_those_rows_in_order(optimizer):
    # Two asked rows pinned by id: the weaker one ("asked:0", the newest request) still goes on top,
    # though swapping them would be worth more; the free tile takes the best other row.
    rows = [
        row("asked", [1, 2, 3], [0.2, 0.2, 0.2], "0"),
        row("asked", [4, 5, 6], [0.9, 0.9, 0.9], "1"),
        row("top_picks", [7, 8, 9], [0.5, 0.5, 0.5]),
    ]
    page_layout = with_asked_tiles(layout(*carousels(1)), ("asked:0", "asked:1"))
    assert [tile.pinned for tile in page_layout.tiles] == ["asked:0", "asked:1", None]
    page = solve(rows, page_layout, optimizer=optimizer)
    assert shown(page) == [("asked:0", [1, 2, 3]), ("asked:1", [4, 5, 6]), ("top_picks", [7, 8, 9])]
    assert page.report.relaxations == ()
    quarter = 1 + 0.5 + 0.25
    assert page.report.objective == pytest.approx(0.2 * quarter + 0.5 * 0.9 * quarter + 0.25 * 0.5 * quarter)


def test_pages_from_the_mip_show_each_rows_cards_best_first(monkeypatch):
    # Tied scores leave HiGHS free to seat a row's cards in any order (its slot order came back as
    # (1, 3, 2)); candidates are sorted best score first, so the page shows them in candidate order.
    rows = [row("top_picks", [1, 2, 3, 4], [1.0] * 4), row("trending", [1, 20, 21, 22], [1.0] * 4)]
    problem = prepare_problem(rows, facts(), layout(*carousels(2)))
    result = solve_page_model(build_page_problem(problem), node_limit=1000, round_limit=100_000, gap=1e-7)
    assert [sorted(p.candidates) for p in result.placements] == [list(p.candidates) for p in result.placements]
    monkeypatch.setattr(optimizer_module, "decompose", unproven)  # the MIP decides the page
    page = optimize(problem)
    for page_row in page.rows:
        items = next(r.items for r in problem.rows if r.row_id == page_row.row_id)
        shown_items = [item.item_id for item in page_row.items]
        assert shown_items == sorted(shown_items, key=items.index)
    assert page.report.objective == pytest.approx((1 + 1 / 2 + 1 / 4) * (1 + 1 / 2))


def test_filling_a_tile_outranks_keeping_a_pin_in_the_decomposition():
    # up_next keeps its pinned three-card tile only if the six-card tile stays empty (top picks, three
    # items, fits nowhere else): filling every tile ranks above the pin, so the pin gives way.
    rows = [row("up_next", [1, 2, 3, 4, 5, 6], [0.5] * 6), row("top_picks", [7, 8, 9], [0.9] * 3)]
    page_layout = layout(Tile("carousel", 3, pinned="up_next"), Tile("carousel", 6))
    for page in (solve(rows, page_layout), exact(rows, page_layout)):
        assert shown(page) == [("top_picks", [7, 8, 9]), ("up_next", [1, 2, 3, 4, 5, 6])]
        assert [(r.constraint, r.asked, r.got) for r in page.report.relaxations] == [("tiles[0].pinned", 1, 0)]
        assert page.report.status == "optimal"
        assert page.report.objective == pytest.approx(0.9 * (1 + 1 / 2 + 1 / 4) + 0.5 * (2 - 1 / 32) / 2)


def test_the_solver_stops_on_a_round_count_never_on_the_clock(monkeypatch):
    # A round cap of 1 ends the MIP at its first limit check: status limit, the message names both
    # counts, the same page each time, never below the start; HiGHS is given no time limit.
    monkeypatch.setattr(optimizer_module, "decompose", unproven)
    problem = random_problem(2)
    first, second = optimize(problem, round_limit=1), optimize(problem, round_limit=1)
    assert first.report.status == "limit" and first.rows
    assert first.report.message == (
        f"not proven within {NODE_LIMIT} solver nodes / 1 solver rounds; the gap is the most any page could gain"
    )
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())
    best_baseline = max(optimize(problem, name).report.objective for name in ("greedy", "mmr"))
    assert first.report.objective >= best_baseline - 1e-6
    model = build_page_problem(problem)
    solve_page_model(model, round_limit=1)
    assert model.lp.solverModel.getOptionValue("time_limit")[1] == float("inf")


def test_cards_by_assignment_gives_a_shared_item_where_it_is_worth_most():
    # Item 1 is in both rows: on top (attention 1) it is worth 0.9, a tile down 1/2 · 0.8. Top picks
    # keeping it: 0.9 + 0.5 / 2 + (0.7 + 0.1 / 2) / 2 = 1.525; trending taking it:
    # 0.5 + 0.4 / 2 + (0.8 + 0.7 / 2) / 2 = 1.275. A bonus of 0.6 on item 3 brings it in instead of 2.
    rows = [row("top_picks", [1, 2, 3], [0.9, 0.5, 0.4]), row("trending", [1, 4, 5], [0.8, 0.7, 0.1])]
    problem = prepare_problem(rows, facts(), layout(*carousels(2, 2)))
    assert cards_by_assignment(problem, {0: 0, 1: 1}, {}) == {0: [0, 1], 1: [1, 2]}
    assert cards_by_assignment(problem, {0: 0, 1: 1}, {3: 0.6}) == {0: [0, 2], 1: [1, 2]}
    same = prepare_problem([row("top_picks", [1, 2], [0.9, 0.5]), row("trending", [1, 2], [0.8, 0.7])], facts(),
                           layout(*carousels(2, 2)))  # fmt: skip
    assert cards_by_assignment(same, {0: 0, 1: 1}, {}) is None  # four cards, two items


@pytest.mark.parametrize(("seed", "variant"), BOUND_CASES[:4])
def test_the_decomposition_gives_the_same_page_and_bound_each_time(seed, variant):
    problem = random_problem(seed, variant)
    first, second = (decompose(problem, greedy_page(problem), gap=0.0) for _ in range(2))
    assert first == second
