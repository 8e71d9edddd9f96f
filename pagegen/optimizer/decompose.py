"""The fast exact path: a Lagrangian decomposition of the page program that ``ilp.py`` states in PuLP.

The rules that tie rows together are priced instead of enforced: each item's appearances (de-duplication),
each row's cards of a genre (the genre share), rows per type and required row types. With prices the
page falls apart into small pieces, each solved exactly:

- a row's best cards for a tile: exactly ``slots`` of its candidates, the best score on the first card
  (the rearrangement inequality), chosen by a dynamic program over the cards;
- rows to tiles: an assignment (scipy's ``linear_sum_assignment``).

The priced page's value bounds every page from above (weak duality), and subgradient steps move the
prices towards the lowest bound. Each priced page is also turned into a real one: the priced page itself
when it breaks no rule, else its rows, top tile first, each keeping the cards no row above took and
filling up with its best candidates that fit (seeded by the priced cards, and again by an assignment of
items to cards), then page coverage restored by the cheapest swaps. When the best real page comes within the gap of the bound, it is proven; otherwise
the caller hands it to the MIP as its start. Every step is counted, never timed, so the same problem
always gives the same page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from pagegen.optimizer.baselines import take_cards
from pagegen.optimizer.page import Placement, best_page, better_rows_higher, page_objective, row_value, shortfalls
from pagegen.optimizer.problem import PageProblem

ITERATIONS = 80  # subgradient steps at most: enough to prove ≥ 99 % of ml-100k pages (see README)
SEARCH = 30  # steps to find a page that keeps every rule it can before the bound is worth computing
STALL = 4  # steps without a lower bound before the step size halves
REORDERS = 3  # rounds of choosing cards for the rows' order, then ordering rows by their cards
EXCHANGES = 3  # rounds of row exchanges tried on a page the bound has not yet proven
FIRST_STEP = 1.0  # the first Polyak step factor (steps projected, so 1 is the textbook choice)
FORBIDDEN = -1e9  # assignment value of a row that may not take a tile
FORCED = 1e6  # added to a row's assignment values when the page must show it: it outweighs any page


@dataclass(frozen=True)
class DecompositionResult:
    placements: tuple[Placement, ...]
    bound: float | None  # upper bound on the objective of pages that keep what this page keeps
    proven: bool  # the page is within the gap of the bound and keeps every rule that can be kept
    iterations: int


@dataclass(frozen=True)
class _Pairs:
    """Every (row, tile) pair of one tile size, for the vectorised dynamic program."""

    slots: int
    rows: np.ndarray
    tiles: np.ndarray
    attention: np.ndarray


@dataclass
class _Prices:
    """The prices of the relaxed rules; each makes breaking its rule cost and keeping it pay."""

    item: np.ndarray  # each item's appearances beyond one
    group: np.ndarray  # each (row, tile size, genre) over its share
    cap: dict[str, float]  # each row type over max_rows_per_type
    need: dict[str, float]  # each required type (of several rows) missing
    new: float  # per new card, for the page's new items
    genres: float  # per genre covered, for the page's genres
    genre: np.ndarray  # per genre: covered only with a card of it


class _Pieces:
    """The page's pieces as arrays, built once per problem, and the priced page they make."""

    def __init__(self, problem: PageProblem) -> None:
        self.problem = problem
        rows, tiles, constraints = problem.rows, problem.tiles, problem.constraints
        self.depth = max((len(row.items) for row in rows), default=0)
        items = sorted({item for row in rows for item in row.items})
        self.item_ids = items
        index = {item: i for i, item in enumerate(items)}
        self.value = np.full((len(rows), self.depth), -np.inf)
        self.item = np.full((len(rows), self.depth), len(items))  # padding points at a dummy item
        for r, row in enumerate(rows):
            self.value[r, : len(row.items)] = row.scores
            self.item[r, : len(row.items)] = [index[i] for i in row.items]
        appearances = np.bincount(self.item.ravel(), minlength=len(items) + 1)
        self.shared = appearances[: len(items)] > 1  # only items in two rows need a de-duplication prices
        self.price_cap = np.inf if constraints.dedup == "hard" else constraints.dedup_penalty
        self.slot_attention = np.array([problem.slot_attention(s) for s in range(max(t.slots for t in tiles))])

        # Which tiles a row may take: enough candidates, and the pinned type where that can be kept.
        self.pinned_kept = {
            t: tile.pinned
            for t, tile in enumerate(tiles)
            if tile.pinned is not None
            and any(row.reason.row_type == tile.pinned and problem.fits(r, t) for r, row in enumerate(rows))
        }
        allowed = np.array(
            [
                [
                    problem.fits(r, t) and self.pinned_kept.get(t, row.reason.row_type) == row.reason.row_type
                    for t in range(len(tiles))
                ]
                for r, row in enumerate(rows)
            ],
            dtype=bool,
        ).reshape(len(rows), len(tiles))
        self.allowed = allowed
        self.pairs = []
        for slots in sorted({tile.slots for tile in tiles}):
            rs, ts = np.nonzero(allowed & np.array([tile.slots == slots for tile in tiles])[None, :])
            attention = np.array([problem.tile_attention(t) for t in ts])
            self.pairs.append(_Pairs(slots, rs, ts, attention))

        # Genre share: one prices per (row, tile size, genre) that could break it.
        self.groups: list[tuple[int, int, np.ndarray]] = []  # (row, slots, candidate mask)
        for r, row in enumerate(rows):
            masks: dict[str, np.ndarray] = {}
            capped = problem.capped_genres(row)
            for k, item in enumerate(row.items):
                for genre in problem.facts[item].genres:
                    if genre in capped:
                        masks.setdefault(genre, np.zeros(self.depth, dtype=bool))[k] = True
            for slots in sorted({tiles[t].slots for t in range(len(tiles)) if allowed[r, t]}):
                cap = problem.genre_cap(slots)
                self.groups += [(r, slots, masks[g]) for g in sorted(masks) if masks[g].sum() > cap]
        self.group_cap = np.array([problem.genre_cap(slots) for _, slots, _ in self.groups], dtype=float)
        self.groups_of: dict[tuple[int, int], list[int]] = {}  # (row, slots) → its groups
        for q, (r, slots, _) in enumerate(self.groups):
            self.groups_of.setdefault((r, slots), []).append(q)

        # Row types: caps and required types (those some row can fill a tile for).
        types = [row.reason.row_type for row in rows]
        self.row_type = types
        counts = Counter(types)
        self.capped_types = sorted(t for t in counts if counts[t] > constraints.max_rows_per_type)
        keepable = {
            t
            for t in constraints.required_row_types
            if any(allowed[r].any() for r in range(len(rows)) if types[r] == t)
        }
        # A required type with one row is that row, placed for certain by the assignment itself (exact);
        # a required type with several rows is priced.
        self.forced = sorted(types.index(t) for t in keepable if counts[t] == 1)
        self.required_types = sorted(t for t in keepable if counts[t] > 1)
        # Page coverage: which candidates are new, which genres each carries, and what any page can reach.
        self.is_new = np.zeros((len(rows), self.depth), dtype=bool)
        self.genre_names = sorted({g for row in rows for i in row.items for g in problem.facts[i].genres})
        column = {g: j for j, g in enumerate(self.genre_names)}
        self.member = np.zeros((len(rows), self.depth, len(self.genre_names)), dtype=bool)
        for r, row in enumerate(rows):
            for k, item in enumerate(row.items):
                self.is_new[r, k] = problem.facts[item].is_new
                self.member[r, k, [column[g] for g in problem.facts[item].genres]] = True
        # What any page can reach: the new items and genres of rows that can fill a tile at all.
        showable = [row for r, row in enumerate(rows) if allowed[r].any()]
        new_items = {i for row in showable for i in row.items if problem.facts[i].is_new}
        genres = {g for row in showable for i in row.items for g in problem.facts[i].genres}
        self.reachable_new = min(len(new_items), constraints.min_new_items)
        self.reachable_genres = min(len(genres), constraints.min_page_genres)
        # Tiles left empty only when no assignment of rows to tiles can fill them all.
        fill = np.where(allowed.T, 1.0, 0.0)
        filled = fill[linear_sum_assignment(fill, maximize=True)].sum() if len(rows) else 0.0
        self.fillable = round(float(filled))
        self.may_leave_empty = self.fillable < len(tiles)

    def solve(self, prices: _Prices, levels: tuple[int, int]) -> tuple[float, list[tuple[int, int, tuple[int, ...]]]]:
        """The priced page: its value and its (tile, row, candidates) choices. The value bounds the
        objective of every page that keeps the rules the bound assumes and shows at least ``levels``
        (distinct new items, genres)."""
        problem = self.problem
        n_rows, n_tiles = len(problem.rows), len(problem.tiles)
        charge = np.append(prices.item, 0.0)[self.item]  # (rows, depth): what showing each candidate costs
        if prices.new > 0:
            charge = charge - prices.new * self.is_new
        if prices.genre.any():
            charge = charge - self.member @ prices.genre
        genre_cost: dict[int, np.ndarray] = {}
        genre_bonus: dict[int, np.ndarray] = {}
        for q, (r, slots, mask) in enumerate(self.groups):
            if prices.group[q] > 0:
                genre_cost.setdefault(slots, np.zeros_like(charge))[r] += prices.group[q] * mask
                genre_bonus.setdefault(slots, np.zeros(n_rows))[r] += prices.group[q] * self.group_cap[q]
        worth = np.full((n_tiles, n_rows), FORBIDDEN)
        cards: dict[tuple[int, int], tuple[int, ...]] = {}
        for pairs in self.pairs:
            if not len(pairs.rows):
                continue
            cost = charge + genre_cost.get(pairs.slots, 0.0)
            best, chosen = _best_cards(
                self.value[pairs.rows], cost[pairs.rows], pairs.attention, self.slot_attention[: pairs.slots]
            )
            best = best + genre_bonus.get(pairs.slots, np.zeros(n_rows))[pairs.rows]
            for p, (r, t) in enumerate(zip(pairs.rows.tolist(), pairs.tiles.tolist(), strict=True)):
                worth[t, r] = best[p]
                cards[r, t] = tuple(chosen[p])
        adjust = np.array([prices.need.get(kind, 0.0) - prices.cap.get(kind, 0.0) for kind in self.row_type])
        worth = np.where(worth > FORBIDDEN, worth + adjust[None, :], FORBIDDEN)
        worth[:, self.forced] = np.where(worth[:, self.forced] > FORBIDDEN, worth[:, self.forced] + FORCED, FORBIDDEN)
        if self.may_leave_empty:
            worth = np.hstack([worth, np.zeros((n_tiles, n_tiles))])
        tiles, rows = linear_sum_assignment(worth, maximize=True)
        if (worth[tiles, rows] <= FORBIDDEN / 2).any() or not set(self.forced) <= set(rows.tolist()):
            return np.inf, []
        value = float(worth[tiles, rows].sum()) - FORCED * len(self.forced)
        value += float(prices.item.sum())  # one appearance of each item is free
        value += sum(cap * problem.constraints.max_rows_per_type for cap in prices.cap.values())
        value -= sum(prices.need.values())
        new_level, genre_level = levels
        value -= prices.new * new_level
        value += float(np.maximum(prices.genres - prices.genre, 0.0).sum()) - prices.genres * genre_level
        choices = [(t, r, cards[r, t]) for t, r in zip(tiles.tolist(), rows.tolist(), strict=True) if r < n_rows]
        return value, choices


def _best_cards(
    value: np.ndarray, cost: np.ndarray, tile_attention: np.ndarray, slot_attention: np.ndarray
) -> tuple[np.ndarray, list[list[int]]]:
    """For each pair: the best ``len(slot_attention)`` candidates, card j worth
    ``tile_attention · slot_attention[j] · value − cost``, candidates in score order.

    ``best[j][k]``, the most that j + 1 cards taken from candidates 0..k can be worth, is a running
    maximum over k, so the program runs over the cards, not the candidates."""
    pairs, depth = value.shape
    before = np.zeros((pairs, depth))  # the most that j cards from candidates before k are worth
    gains = []
    for weight in slot_attention:
        gain = before + tile_attention[:, None] * weight * value - cost
        gains.append(gain)
        running = np.maximum.accumulate(gain, axis=1)
        before = np.hstack([np.full((pairs, 1), -np.inf), running[:, :-1]])
    best = np.maximum.accumulate(gains[-1], axis=1)[:, -1]
    chosen = np.zeros((pairs, len(slot_attention)), dtype=int)
    limit = np.full(pairs, depth)
    columns = np.arange(depth)[None, :]
    for j in range(len(slot_attention) - 1, -1, -1):
        masked = np.where(columns < limit[:, None], gains[j], -np.inf)
        chosen[:, j] = limit = np.argmax(masked, axis=1)
    return best, chosen.tolist()


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
    pieces = _Pieces(problem)
    prices = _Prices(
        item=np.zeros(len(pieces.item_ids)),
        group=np.zeros(len(pieces.groups)),
        cap=dict.fromkeys(pieces.capped_types, 0.0),
        need=dict.fromkeys(pieces.required_types, 0.0),
        new=0.0,
        genres=0.0,
        genre=np.zeros(len(pieces.genre_names)),
    )
    constraints = problem.constraints
    repaired: dict[tuple, tuple[Placement, ...]] = {}
    incumbent = tuple(start)
    bound, step, stall, done = np.inf, FIRST_STEP, 0, 0
    for done in range(1, iterations + 1):
        keeps = _keeps_all(problem, pieces, incumbent)
        if not keeps and done > SEARCH:
            break  # no page keeping every rule it can keep was found: the MIP searches on from the best
        value, choices = pieces.solve(prices, _levels(problem, incumbent) if keeps else (0, 0))
        if value == np.inf:
            break  # what the page must keep cannot be kept together: the MIP decides
        improved = value < bound - 1e-9
        bound = min(bound, value) if keeps else bound
        bonus = _coverage_bonus(problem, pieces, prices)
        key = (tuple(sorted((t, r) for t, r, _ in choices)), tuple(sorted(bonus.items())))
        if key not in repaired:
            repaired[key] = _repair(problem, choices, bonus)
            incumbent = best_page(problem, [incumbent, repaired[key]])
        priced = _as_shown(problem, choices)
        if priced is not None:
            incumbent = best_page(problem, [incumbent, priced])
        lower = page_objective(problem, incumbent) if keeps else None
        if lower is not None and bound - lower <= gap * max(abs(lower), 1e-9):
            return DecompositionResult(incumbent, bound, True, done)
        # Subgradients of the bound: how far the priced page breaks each priced rule. Coverage is pushed
        # towards what the layout asks, so the priced pages look for it even before a page reaches it.
        in_group = np.zeros(len(pieces.groups))
        placed_types: Counter[str] = Counter()
        new_cards = 0
        genre_cards = np.zeros(len(pieces.genre_names))
        for t, r, cards in choices:
            placed_types[pieces.row_type[r]] += 1
            new_cards += int(pieces.is_new[r, list(cards)].sum())
            genre_cards += pieces.member[r, list(cards)].sum(axis=0)
            for q in pieces.groups_of.get((r, problem.tiles[t].slots), ()):
                in_group[q] = pieces.group_cap[q] - pieces.groups[q][2][list(cards)].sum()
        shown = [pieces.item[r, k] for _, r, cards in choices for k in cards]
        appearances = np.bincount(np.asarray(shown, dtype=int), minlength=len(pieces.item_ids) + 1)
        # Each step is projected: a prices at zero (or at its cap) that the step would push past it stays
        # there and does not count in the step's length, which would otherwise shrink every other step.
        item_step = _projected(
            prices.item, (1.0 - appearances[: len(pieces.item_ids)]) * pieces.shared, pieces.price_cap
        )
        group_step = _projected(prices.group, in_group)
        cap_keys, need_keys = list(prices.cap), list(prices.need)
        cap_step = _projected(
            np.array([prices.cap[k] for k in cap_keys]),
            np.array([constraints.max_rows_per_type - placed_types[k] for k in cap_keys], dtype=float),
        )
        need_step = _projected(
            np.array([prices.need[k] for k in need_keys]), np.array([placed_types[k] - 1.0 for k in need_keys])
        )
        covers = np.where(prices.genres > prices.genre, 1.0, np.minimum(genre_cards, 1.0))
        new_step = _projected(np.array([prices.new]), np.array([float(new_cards - pieces.reachable_new)]))
        genres_step = _projected(np.array([prices.genres]), np.array([covers.sum() - pieces.reachable_genres]))
        genre_step = _projected(prices.genre, genre_cards - covers)
        if not pieces.reachable_new:
            new_step[:] = 0.0
        if not pieces.reachable_genres:
            genres_step[:], genre_step[:] = 0.0, 0.0
        steps = (item_step, group_step, cap_step, need_step, new_step, genres_step, genre_step)
        norm = float(sum(np.square(step).sum() for step in steps))
        if norm == 0:
            break  # the priced page keeps every priced rule: prices cannot lower the bound further
        target = lower if lower is not None else value - 0.05 * abs(value) - 1e-3
        if lower is None or not improved:
            stall += 1
        if stall >= STALL:
            step, stall = step / 2, 0
        size = step * max(value - target, 1e-6) / norm
        prices.item = np.clip(prices.item - size * item_step, 0.0, pieces.price_cap)
        prices.group = np.maximum(prices.group - size * group_step, 0.0)
        prices.cap = dict(
            zip(cap_keys, np.maximum([prices.cap[k] for k in cap_keys] - size * cap_step, 0.0).tolist(), strict=True)
        )
        prices.need = dict(
            zip(
                need_keys, np.maximum([prices.need[k] for k in need_keys] - size * need_step, 0.0).tolist(), strict=True
            )
        )
        prices.new = max(prices.new - size * float(new_step[0]), 0.0)
        prices.genres = max(prices.genres - size * float(genres_step[0]), 0.0)
        prices.genre = np.maximum(prices.genre - size * genre_step, 0.0)
    if bound < np.inf and _keeps_all(problem, pieces, incumbent):
        # Before the MIP: the best page with one row exchanged for another, when that closes the gap.
        incumbent = _exchange_rows(problem, pieces, incumbent)
        lower = page_objective(problem, incumbent)
        if bound - lower <= gap * max(abs(lower), 1e-9):
            return DecompositionResult(incumbent, bound, True, done)
    return DecompositionResult(incumbent, None if bound == np.inf else bound, False, done)


def _exchange_rows(problem: PageProblem, pieces: _Pieces, page: tuple[Placement, ...]) -> tuple[Placement, ...]:
    """``page`` improved by exchanging one shown row for one not shown (cards chosen again), as long as
    an exchange helps; at most ``EXCHANGES`` rounds."""
    for _ in range(EXCHANGES):
        shown = {p.row for p in page}
        options = []
        for placement in page:
            for r in range(len(problem.rows)):
                if r not in shown and pieces.allowed[r, placement.tile]:
                    top = tuple(range(problem.tiles[placement.tile].slots))  # the new row's best cards first
                    rows = [(p.tile, r, top) if p is placement else (p.tile, p.row, p.candidates) for p in page]
                    options.append(_repair(problem, rows, {}))
        better = best_page(problem, [page, *options])
        if better == page:
            return page
        page = better
    return page


def _projected(prices: np.ndarray, step: np.ndarray, cap: float = np.inf) -> np.ndarray:
    """``step`` without the parts that would push a prices below zero or above ``cap``, where it sits."""
    return np.where(((prices <= 0) & (step > 0)) | ((prices >= cap) & (step < 0)), 0.0, step)


def _levels(problem: PageProblem, placements: Sequence[Placement]) -> tuple[int, int]:
    """The distinct new items and genres every page at least as good as ``placements`` shows (pages
    compare lexicographically: new items count only among pages with as many genres)."""
    missed = shortfalls(problem, placements)
    constraints = problem.constraints
    genres = constraints.min_page_genres - missed["min_page_genres"]
    new = constraints.min_new_items - missed["min_new_items"] if missed["min_page_genres"] == 0 else 0
    return new, genres


def _keeps_all(problem: PageProblem, pieces: _Pieces, placements: Sequence[Placement]) -> bool:
    """Whether the page keeps every rule the bound assumes kept: coverage, required types, pinned tiles
    where some row can fill them, and every tile that some assignment can fill."""
    if not placements:
        return False
    missed, constraints = shortfalls(problem, placements), problem.constraints
    types = {problem.rows[p.row].reason.row_type for p in placements}
    filled = {p.tile: problem.rows[p.row].reason.row_type for p in placements}
    return (
        constraints.min_new_items - missed["min_new_items"] >= pieces.reachable_new
        and constraints.min_page_genres - missed["min_page_genres"] >= pieces.reachable_genres
        and all(kind in types for kind in pieces.required_types)
        and all(any(p.row == r for p in placements) for r in pieces.forced)
        and all(filled.get(t) == kind for t, kind in pieces.pinned_kept.items())
        and len(filled) >= pieces.fillable
    )


def _as_shown(problem: PageProblem, choices: list[tuple[int, int, tuple[int, ...]]]) -> tuple[Placement, ...] | None:
    """The priced page itself when it breaks no hard rule (no repeat under hard de-duplication, every
    row within its genre share): at good prices it is often the best page."""
    if not choices:
        return None
    shown = [problem.rows[r].items[k] for _, r, cards in choices for k in cards]
    if problem.constraints.dedup == "hard" and len(shown) != len(set(shown)):
        return None
    if not _within_type_caps(problem, [r for _, r, _ in choices]):
        return None
    if not all(problem.within_genre_share(r, problem.tiles[t].slots, cards) for t, r, cards in choices):
        return None
    return tuple(_cover(problem, better_rows_higher(problem, [Placement(t, r, cards) for t, r, cards in choices])))


def _coverage_bonus(problem: PageProblem, pieces: _Pieces, prices: _Prices) -> dict[int, float]:
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


def _repair(
    problem: PageProblem, choices: list[tuple[int, int, tuple[int, ...]]], bonus: dict[int, float]
) -> tuple[Placement, ...]:
    """A real page from a priced one: its rows in its tiles (better rows higher among equal tiles), cards
    chosen again without repeats (items the coverage prices favour worth their ``bonus`` more), then each
    row's genre share and the page's coverage restored."""
    if not choices or not _within_type_caps(problem, [r for _, r, _ in choices]):
        return ()
    pages = [better_rows_higher(problem, _fill_in_order(problem, choices))]
    if problem.constraints.dedup == "hard":
        order = {t: r for t, r, _ in choices}
        for _ in range(REORDERS):  # the cards depend on the rows' order, and the order on the cards
            cards = _cards_by_assignment(problem, order, bonus)
            if cards is None:
                break
            page = better_rows_higher(problem, _fill_in_order(problem, [(t, order[t], tuple(cards[t])) for t in order]))
            pages.append(page)
            if not page or {p.tile: p.row for p in page} == order:
                break
            order = {p.tile: p.row for p in page}
    return best_page(problem, [tuple(_cover(problem, page)) for page in pages if page])


def _fill_in_order(problem: PageProblem, choices: list[tuple[int, int, tuple[int, ...]]]) -> list[Placement]:
    """Rows top tile first, each keeping the wanted cards no row above took, within its genre share, and
    filling the rest with its best candidates that fit and that no other row took or wants (hard
    de-duplication); [] when a row runs dry."""
    hard = problem.constraints.dedup == "hard"
    choices = sorted(choices)
    wanted = [{problem.rows[r].items[k] for k in cards} for _, r, cards in choices]
    taken: set[int] = set()
    placements = []
    for index, (t, r, cards) in enumerate(choices):
        row, slots = problem.rows[r], problem.tiles[t].slots
        order = list(dict.fromkeys([*sorted(cards), *range(len(row.items))]))
        others = set().union(*wanted[index + 1 :]) - wanted[index]
        kept = take_cards(problem, r, slots, order, [*taken, *others] if hard else [])
        if len(kept) < slots:
            kept = take_cards(problem, r, slots, order, list(taken) if hard else [])
        if len(kept) < slots:
            return []
        placements.append(Placement(t, r, tuple(sorted(kept))))
        taken |= {row.items[k] for k in kept}
    return placements


def _cards_by_assignment(
    problem: PageProblem, rows: dict[int, int], bonus: dict[int, float]
) -> dict[int, list[int]] | None:
    """Every placed row's cards at once: items to (tile, card) positions, each item once, worth
    attention × score plus its bonus. Within a row the assignment puts the best item first by itself."""
    positions = [(t, s) for t in sorted(rows) for s in range(problem.tiles[t].slots)]
    items = sorted({item for r in rows.values() for item in problem.rows[r].items})
    column = {item: i for i, item in enumerate(items)}
    worth = np.full((len(positions), len(items)), FORBIDDEN)
    for p, (t, s) in enumerate(positions):
        row = problem.rows[rows[t]]
        attention = problem.tile_attention(t) * problem.slot_attention(s)
        worth[p, [column[i] for i in row.items]] = attention * np.asarray(row.scores) + [
            bonus.get(i, 0.0) for i in row.items
        ]
    chosen_positions, chosen_items = linear_sum_assignment(worth, maximize=True)
    if len(chosen_positions) < len(positions) or (worth[chosen_positions, chosen_items] <= FORBIDDEN / 2).any():
        return None  # fewer items than cards, or a card only an item of another row could fill
    cards: dict[int, list[int]] = {t: [] for t in rows}
    for p, i in zip(chosen_positions.tolist(), chosen_items.tolist(), strict=True):
        t = positions[p][0]
        cards[t].append(problem.rows[rows[t]].items.index(items[i]))
    return {t: sorted(chosen) for t, chosen in cards.items()}


def _cover(problem: PageProblem, placements: list[Placement]) -> list[Placement]:
    """Page coverage (genres, then new items) restored by the cheapest single-card swaps, one at a time,
    each keeping the row's genre share and de-duplication; stops when covered or when no swap helps.
    A swap is scored by what it changes, not by scoring the whole page again."""
    constraints = problem.constraints
    facts = problem.facts
    while True:
        missed = shortfalls(problem, placements)
        if not (missed["min_new_items"] or missed["min_page_genres"]):
            return placements
        shown = Counter(problem.rows[p.row].items[k] for p in placements for k in p.candidates)
        genre_cards = Counter(g for item, n in shown.items() for g in facts[item].genres for _ in range(n))
        best: tuple[tuple[float, ...], int, tuple[int, ...]] | None = None
        for index, placement in enumerate(placements):
            row, slots = problem.rows[placement.row], problem.tiles[placement.tile].slots
            before = row_value(problem, placement.row, placement.candidates)
            for k in range(len(row.items)):
                item = row.items[k]
                if k in placement.candidates or (constraints.dedup == "hard" and shown[item]):
                    continue
                gained = {g for g in facts[item].genres if not genre_cards[g]}
                fresh = facts[item].is_new and not shown[item]
                if not ((missed["min_page_genres"] and gained) or (missed["min_new_items"] and fresh)):
                    continue
                for out in placement.candidates:
                    cards = tuple(sorted([c for c in placement.candidates if c != out] + [k]))
                    if not problem.within_genre_share(placement.row, slots, cards):
                        continue
                    dropped = row.items[out]
                    lost = {g for g in facts[dropped].genres if genre_cards[g] == 1 and g not in facts[item].genres}
                    lost_new = facts[dropped].is_new and shown[dropped] == 1
                    genres_short = max(missed["min_page_genres"] - len(gained) + len(lost), 0)
                    new_short = max(missed["min_new_items"] - fresh + lost_new, 0)
                    change = problem.tile_attention(placement.tile) * (
                        row_value(problem, placement.row, cards) - before
                    )
                    rank = (-genres_short, -new_short, change)
                    if rank > (-missed["min_page_genres"], -missed["min_new_items"], 0.0) and (
                        best is None or rank > best[0]
                    ):
                        best = (rank, index, cards)
        if best is None:
            return placements
        _, index, cards = best
        placements = [
            *placements[:index],
            Placement(placements[index].tile, placements[index].row, cards),
            *placements[index + 1 :],
        ]


def _within_type_caps(problem: PageProblem, rows: Sequence[int]) -> bool:
    counts = Counter(problem.rows[r].reason.row_type for r in rows)
    return max(counts.values(), default=0) <= problem.constraints.max_rows_per_type
