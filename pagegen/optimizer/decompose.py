"""The fast exact path: a Lagrangian decomposition of the page program that ``ilp.py`` states in PuLP.

The rules that tie rows together are priced instead of enforced (``pricing.py``): the priced page falls
apart into small pieces solved exactly, and its value bounds every page from above. Subgradient steps
move the prices towards the lowest bound. Each priced page is also turned into a real one
(``repair.py``): the priced page itself when it breaks no rule, else its rows refilled top tile first
and the page's coverage restored. When the best real page comes within the gap of the bound, it is
proven; otherwise the caller hands it to the MIP as its start. Every step is counted, never timed, so
the same problem always gives the same page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pagegen.optimizer.baselines import take_cards
from pagegen.optimizer.page import (
    Placement,
    best_page,
    page_objective,
    page_rank,
    row_value,
    shortfalls,
    shown_on_page,
)
from pagegen.optimizer.pricing import Pieces, Prices, subgradient
from pagegen.optimizer.problem import Choices, PageProblem
from pagegen.optimizer.repair import as_shown, repair, within_type_caps

ITERATIONS = 80  # subgradient steps at most: the median default page's bound is within ~1.2 % by then (see README)
SEARCH = 30  # steps to find a page that keeps every rule it can before the bound is worth computing
STALL = 4  # steps without a lower bound before the step size halves
EXCHANGES = 3  # rounds of row exchanges tried on a page the bound has not yet proven
EXCHANGE_TRIES = 4  # exchanges refilled a round, the most promising first
FIRST_STEP = 1.0  # the first Polyak step factor (steps projected, so 1 is the textbook choice)


@dataclass(frozen=True)
class DecompositionResult:
    placements: tuple[Placement, ...]
    bound: float | None  # upper bound on the objective of pages that keep what this page keeps
    proven: bool  # the page is within the gap of the bound and keeps every rule that can be kept
    iterations: int


def decompose(
    problem: PageProblem,
    start: Sequence[Placement] = (),
    *,
    gap: float = 0.005,
    iterations: int = ITERATIONS,
) -> DecompositionResult:
    """The best page found and, when it is proven within ``gap``, the bound that proves it."""
    if not problem.rows:
        return DecompositionResult(tuple(start), None, False, 0)
    pieces = Pieces(problem)
    prices = Prices.zeros(pieces)
    repaired: dict[tuple, tuple[Placement, ...]] = {}
    incumbent = tuple(start)
    rank = page_rank(problem, incumbent)
    keeps, levels, lower = _standing(problem, pieces, incumbent, rank)
    bound, step, stall, done = np.inf, FIRST_STEP, 0, 0
    for done in range(1, iterations + 1):
        if not keeps and done > SEARCH:
            break  # no page keeping every rule it can keep was found: the MIP searches on from the best
        value, choices = pieces.solve(prices, levels)
        if value == np.inf:
            break  # what the page must keep cannot be kept together: the MIP decides
        improved = value < bound - 1e-9
        bound = min(bound, value) if keeps else bound
        bonus = _coverage_bonus(problem, pieces, prices)
        key = (tuple(sorted((t, r) for t, r, _ in choices)), tuple(sorted(bonus.items())))
        found = []
        if key not in repaired:
            repaired[key] = repair(problem, choices, bonus)
            found.append(repaired[key])
        priced = as_shown(problem, choices)
        if priced is not None:
            found.append(priced)
        for page in found:  # the incumbent's standing is worked out again only when it changes
            candidate_rank = page_rank(problem, page)
            if candidate_rank > rank:
                incumbent, rank = tuple(page), candidate_rank
                keeps, levels, lower = _standing(problem, pieces, incumbent, rank)
        if lower is not None and bound - lower <= gap * max(abs(lower), 1e-9):
            return DecompositionResult(incumbent, bound, True, done)
        direction = subgradient(problem, pieces, prices, choices)
        norm = direction.squared_norm()
        if norm == 0:
            break  # the priced page keeps every priced rule: prices cannot lower the bound further
        target = lower if lower is not None else value - 0.05 * abs(value) - 1e-3
        if lower is None or not improved:
            stall += 1
        if stall >= STALL:
            step, stall = step / 2, 0
        prices = prices.moved(direction, step * max(value - target, 1e-6) / norm, pieces.price_cap)
    if bound < np.inf and _keeps_all(problem, pieces, incumbent):
        # Before the MIP: the best page with one row exchanged for another, when that closes the gap.
        incumbent = _exchange_rows(problem, pieces, incumbent)
        lower = page_objective(problem, incumbent)
        if bound - lower <= gap * max(abs(lower), 1e-9):
            return DecompositionResult(incumbent, bound, True, done)
    return DecompositionResult(incumbent, None if bound == np.inf else bound, False, done)


def _exchange_rows(problem: PageProblem, pieces: Pieces, page: tuple[Placement, ...]) -> tuple[Placement, ...]:
    """``page`` improved by exchanging one shown row for one not shown (cards chosen again), as long as
    an exchange helps; at most ``EXCHANGES`` rounds, each refilling only the ``EXCHANGE_TRIES`` exchanges
    whose new row, on the cards no other row shows, gains the most (refilling every exchange took 40 % of
    a default page's solve for 0.02 % of its objective)."""
    for _ in range(EXCHANGES):
        options = [repair(problem, rows, {}) for rows in _promising_exchanges(problem, pieces, page)]
        better = best_page(problem, [page, *options])
        if better == page:
            return page
        page = better
    return page


def _promising_exchanges(problem: PageProblem, pieces: Pieces, page: tuple[Placement, ...]) -> list[Choices]:
    """The exchanges of one shown row for one not shown that keep the row-type rules, as priced pages
    (the new row's best cards first), the ``EXCHANGE_TRIES`` that gain the most on free cards."""
    shown_rows = [p.row for p in page]
    required = set(problem.constraints.required_row_types)
    on_page = Counter(problem.rows[p.row].items[k] for p in page for k in p.candidates)
    ranked = []
    for placement in page:
        slots = problem.tiles[placement.tile].slots
        others = [r for r in shown_rows if r != placement.row]
        still_required = required & {problem.rows[r].reason.row_type for r in shown_rows}
        elsewhere = list(on_page - Counter(problem.rows[placement.row].items[k] for k in placement.candidates))
        before = row_value(problem, placement.row, placement.candidates)
        for r in range(len(problem.rows)):
            if r in shown_rows or not pieces.allowed[r, placement.tile]:
                continue
            rows = [*others, r]
            if not within_type_caps(problem, rows) or not still_required <= {
                problem.rows[q].reason.row_type for q in rows
            }:
                continue
            cards = take_cards(problem, r, slots, list(range(len(problem.rows[r].items))), elsewhere)
            gain = problem.tile_attention(placement.tile) * (row_value(problem, r, cards) - before)
            ranked.append((-gain, placement.tile, r))
    ranked.sort()
    return [
        [
            (p.tile, r, tuple(range(problem.tiles[p.tile].slots))) if p.tile == tile else (p.tile, p.row, p.candidates)
            for p in page
        ]
        for _, tile, r in ranked[:EXCHANGE_TRIES]
    ]


def _standing(
    problem: PageProblem, pieces: Pieces, page: tuple[Placement, ...], rank: tuple[float, ...]
) -> tuple[bool, tuple[int, int], float | None]:
    """What the decomposition needs to know of its best page: whether it keeps every rule the bound
    assumes kept, the coverage levels the bound may assume, and its objective (the last of ``rank``)
    when it keeps them."""
    keeps = _keeps_all(problem, pieces, page)
    return keeps, _levels(problem, page) if keeps else (0, 0), rank[-1] if keeps else None


def _levels(problem: PageProblem, placements: Sequence[Placement]) -> tuple[int, int]:
    """The distinct new items and genres every page at least as good as ``placements`` shows (pages
    compare lexicographically: new items count only among pages with as many genres)."""
    missed = shortfalls(problem, placements)
    constraints = problem.constraints
    genres = constraints.min_page_genres - missed["min_page_genres"]
    new = constraints.min_new_items - missed["min_new_items"] if missed["min_page_genres"] == 0 else 0
    return new, genres


def _keeps_all(problem: PageProblem, pieces: Pieces, placements: Sequence[Placement]) -> bool:
    """Whether the page keeps every rule the bound assumes kept: coverage, required types, and as many
    filled tiles, asked rows' tiles and pinned tiles as any page (those pinned tiles every such page
    keeps among them)."""
    if not placements:
        return False
    shown = shown_on_page(problem, placements)
    kept = [
        problem.exclusive(t)
        for t, tile in enumerate(problem.tiles)
        if tile.pinned is not None and t in shown.filled and problem.keeps_pin(shown.filled[t], t)
    ]
    return (
        shown.new_items >= pieces.reachable_new
        and shown.genres >= pieces.reachable_genres
        and all(shown.types[kind] for kind in pieces.required_types)
        and all(any(p.row == r for p in placements) for r in pieces.forced)
        and all(t in shown.filled and problem.keeps_pin(shown.filled[t], t) for t in pieces.pinned_kept)
        and len(shown.filled) >= pieces.fillable
        and sum(kept) >= pieces.asked_kept
        and len(kept) - sum(kept) >= pieces.pins_kept
    )


def _coverage_bonus(problem: PageProblem, pieces: Pieces, prices: Prices) -> dict[int, float]:
    """What the coverage prices add to showing each item (new items, items of genres the page needs)."""
    if prices.new <= 0 and not prices.genre.any():
        return {}  # the common case: no coverage price, so no item to look at
    genre_price = dict(zip(pieces.genre_names, prices.genre.tolist(), strict=True))
    bonus = {}
    for item in pieces.item_ids:
        facts = problem.facts[item]
        value = prices.new * facts.is_new + sum(genre_price[g] for g in facts.genres)
        if value > 1e-9:
            bonus[item] = round(value, 4)
    return bonus
