"""The fast exact path: a Lagrangian decomposition of the page program that ``ilp.py`` states in PuLP.

The rules that tie rows together are priced instead of enforced: each item's appearances (de-duplication),
each row's cards of a genre (the genre share), rows per type and required row types. With prices the
page falls apart into small pieces, each solved exactly:

- a row's best cards for a tile: exactly ``slots`` of its candidates, the best score on the first card
  (the rearrangement inequality), chosen by a dynamic program over the cards;
- rows to tiles: an assignment (scipy's ``linear_sum_assignment``).

The priced page's value bounds every page from above (weak duality), and subgradient steps move the
prices towards the lowest bound. Each priced page is also repaired into a real one: its rows kept, their
cards chosen again by an assignment of items to cards, genre shares and page coverage restored by the
cheapest changes. When the best real page comes within the gap of the bound, it is proven; otherwise
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
from pagegen.optimizer.page import Placement, best_page, better_rows_higher, page_objective, page_rank, shortfalls
from pagegen.optimizer.problem import PageProblem

ITERATIONS = 80  # subgradient steps at most: enough to prove ≥ 99 % of ml-100k pages (see README)
STALL = 4  # steps without a lower bound before the step size halves
FIRST_STEP = 6.0  # the first Polyak step factor: large, as the target (the best page) sits below the dual optimum
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


class _Prices:
    """The decomposition's arrays, built once per problem, and the priced subproblems."""

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
        self.shared = appearances[: len(items)] > 1  # only items in two rows need a de-duplication price
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

        # Genre share: one price per (row, tile size, genre) that could break it.
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
        # Tiles left empty only when no assignment of rows to tiles can fill them all.
        fill = np.where(allowed.T, 1.0, 0.0)
        filled = fill[linear_sum_assignment(fill, maximize=True)].sum() if len(rows) else 0.0
        self.fillable = round(float(filled))
        self.may_leave_empty = self.fillable < len(tiles)

    def solve(
        self, item_price: np.ndarray, group_price: np.ndarray, cap_price: dict[str, float], need_price: dict[str, float]
    ) -> tuple[float, list[tuple[int, int, tuple[int, ...]]]]:
        """The priced page: its value (an upper bound) and its (tile, row, candidates) choices."""
        problem = self.problem
        n_rows, n_tiles = len(problem.rows), len(problem.tiles)
        prices = np.append(item_price, 0.0)[self.item]  # (rows, depth): each candidate's item price
        genre_cost: dict[int, np.ndarray] = {}
        genre_bonus: dict[int, np.ndarray] = {}
        for q, (r, slots, mask) in enumerate(self.groups):
            if group_price[q] > 0:
                genre_cost.setdefault(slots, np.zeros_like(prices))[r] += group_price[q] * mask
                genre_bonus.setdefault(slots, np.zeros(n_rows))[r] += group_price[q] * self.group_cap[q]
        worth = np.full((n_tiles, n_rows), FORBIDDEN)
        cards: dict[tuple[int, int], tuple[int, ...]] = {}
        for pairs in self.pairs:
            if not len(pairs.rows):
                continue
            cost = prices + genre_cost.get(pairs.slots, 0.0)
            best, chosen = _best_cards(
                self.value[pairs.rows], cost[pairs.rows], pairs.attention, self.slot_attention[: pairs.slots]
            )
            best = best + genre_bonus.get(pairs.slots, np.zeros(n_rows))[pairs.rows]
            for p, (r, t) in enumerate(zip(pairs.rows.tolist(), pairs.tiles.tolist(), strict=True)):
                worth[t, r] = best[p]
                cards[r, t] = tuple(chosen[p])
        adjust = np.array([need_price.get(kind, 0.0) - cap_price.get(kind, 0.0) for kind in self.row_type])
        worth = np.where(worth > FORBIDDEN, worth + adjust[None, :], FORBIDDEN)
        worth[:, self.forced] = np.where(worth[:, self.forced] > FORBIDDEN, worth[:, self.forced] + FORCED, FORBIDDEN)
        if self.may_leave_empty:
            worth = np.hstack([worth, np.zeros((n_tiles, n_tiles))])
        tiles, rows = linear_sum_assignment(worth, maximize=True)
        if (worth[tiles, rows] <= FORBIDDEN / 2).any() or not set(self.forced) <= set(rows.tolist()):
            return np.inf, []
        value = float(worth[tiles, rows].sum()) - FORCED * len(self.forced)
        value += float(item_price[self.shared].sum()) if self.price_cap == np.inf else float(item_price.sum())
        value += sum(price * problem.constraints.max_rows_per_type for price in cap_price.values())
        value -= sum(need_price.values())
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
    prices = _Prices(problem)
    item_price = np.zeros(len(prices.item_ids))
    group_price = np.zeros(len(prices.groups))
    cap_price = dict.fromkeys(prices.capped_types, 0.0)
    need_price = dict.fromkeys(prices.required_types, 0.0)
    repaired: dict[tuple[tuple[int, int], ...], tuple[Placement, ...]] = {}
    incumbent = tuple(start)
    bound, step, stall, done = np.inf, FIRST_STEP, 0, 0
    for done in range(1, iterations + 1):
        value, choices = prices.solve(item_price, group_price, cap_price, need_price)
        if value == np.inf:
            break  # what the page must keep cannot be kept together: the MIP decides
        improved = value < bound - 1e-9
        bound = min(bound, value)
        key = tuple(sorted((t, r) for t, r, _ in choices))
        if key not in repaired:
            repaired[key] = _repair(problem, prices, choices)
            incumbent = best_page(problem, [incumbent, repaired[key]])
        priced = _as_shown(problem, choices)
        if priced is not None:
            incumbent = best_page(problem, [incumbent, priced])
        lower = page_objective(problem, incumbent) if _keeps_all(problem, prices, incumbent) else None
        if lower is not None and bound - lower <= gap * max(abs(lower), 1e-9):
            return DecompositionResult(incumbent, bound, True, done)
        # Subgradients of the bound: how far the priced page breaks each priced rule.
        in_group = np.zeros(len(prices.groups))
        placed_types: Counter[str] = Counter()
        for t, r, cards in choices:
            placed_types[prices.row_type[r]] += 1
            for q in prices.groups_of.get((r, problem.tiles[t].slots), ()):
                in_group[q] = prices.group_cap[q] - prices.groups[q][2][list(cards)].sum()
        shown = [prices.item[r, k] for _, r, cards in choices for k in cards]
        appearances = np.bincount(np.asarray(shown, dtype=int), minlength=len(prices.item_ids) + 1)
        item_step = (1.0 - appearances[: len(prices.item_ids)]) * prices.shared
        cap_step = {kind: problem.constraints.max_rows_per_type - placed_types[kind] for kind in cap_price}
        need_step = {kind: placed_types[kind] - 1.0 for kind in need_price}
        norm = (
            float(np.square(item_step).sum() + np.square(in_group).sum())
            + sum(v * v for v in cap_step.values())
            + sum(v * v for v in need_step.values())
        )
        if norm == 0:
            break  # the priced page keeps every priced rule: prices cannot lower the bound further
        target = lower if lower is not None else value - 0.05 * abs(value) - 1e-3
        if lower is None or not improved:
            stall += 1
        if stall >= STALL:
            step, stall = step / 2, 0
        size = step * max(value - target, 1e-6) / norm
        item_price = np.clip(item_price - size * item_step, 0.0, prices.price_cap)
        group_price = np.maximum(group_price - size * in_group, 0.0)
        cap_price = {kind: max(cap_price[kind] - size * cap_step[kind], 0.0) for kind in cap_price}
        need_price = {kind: max(need_price[kind] - size * need_step[kind], 0.0) for kind in need_price}
    return DecompositionResult(incumbent, None if bound == np.inf else bound, False, done)


def _keeps_all(problem: PageProblem, prices: _Prices, placements: Sequence[Placement]) -> bool:
    """Whether the page keeps every rule the bound assumes kept: coverage, required types, pinned tiles
    where some row can fill them, and every tile that some assignment can fill."""
    if not placements:
        return False
    missed = shortfalls(problem, placements)
    types = {problem.rows[p.row].reason.row_type for p in placements}
    filled = {p.tile: problem.rows[p.row].reason.row_type for p in placements}
    return (
        missed["min_new_items"] == missed["min_page_genres"] == 0
        and all(kind in types for kind in prices.required_types)
        and all(any(p.row == r for p in placements) for r in prices.forced)
        and all(filled.get(t) == kind for t, kind in prices.pinned_kept.items())
        and len(filled) >= prices.fillable
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


def _repair(
    problem: PageProblem, prices: _Prices, choices: list[tuple[int, int, tuple[int, ...]]]
) -> tuple[Placement, ...]:
    """A real page from a priced one: its rows in its tiles (better rows higher among equal tiles), cards
    chosen again without repeats, then each row's genre share and the page's coverage restored."""
    if not choices or not _within_type_caps(problem, [r for _, r, _ in choices]):
        return ()
    rows = {t: r for t, r, _ in choices}
    if problem.constraints.dedup == "hard":
        cards = _cards_by_assignment(problem, rows)
        if cards is None:
            return ()
    else:
        cards = {t: list(chosen) for t, _, chosen in choices}
    placements = []
    used = Counter(problem.rows[rows[t]].items[k] for t in cards for k in cards[t])
    for t in sorted(rows):
        r = rows[t]
        kept = _restore_genre_share(problem, r, problem.tiles[t].slots, cards[t], used)
        if kept is None:
            return ()
        placements.append(Placement(t, r, kept))
    placements = better_rows_higher(problem, placements)
    return tuple(_cover(problem, placements))


def _cards_by_assignment(problem: PageProblem, rows: dict[int, int]) -> dict[int, list[int]] | None:
    """Every placed row's cards at once: items to (tile, card) positions, each item once, worth
    attention × score. Within a row the assignment puts the best item first by itself."""
    positions = [(t, s) for t in sorted(rows) for s in range(problem.tiles[t].slots)]
    items = sorted({item for r in rows.values() for item in problem.rows[r].items})
    column = {item: i for i, item in enumerate(items)}
    worth = np.full((len(positions), len(items)), FORBIDDEN)
    for p, (t, s) in enumerate(positions):
        row = problem.rows[rows[t]]
        attention = problem.tile_attention(t) * problem.slot_attention(s)
        worth[p, [column[i] for i in row.items]] = attention * np.asarray(row.scores)
    chosen_positions, chosen_items = linear_sum_assignment(worth, maximize=True)
    if len(chosen_positions) < len(positions) or (worth[chosen_positions, chosen_items] <= FORBIDDEN / 2).any():
        return None  # fewer items than cards, or a card only an item of another row could fill
    cards: dict[int, list[int]] = {t: [] for t in rows}
    for p, i in zip(chosen_positions.tolist(), chosen_items.tolist(), strict=True):
        t = positions[p][0]
        cards[t].append(problem.rows[rows[t]].items.index(items[i]))
    return {t: sorted(chosen) for t, chosen in cards.items()}


def _restore_genre_share(
    problem: PageProblem, r: int, slots: int, cards: Sequence[int], used: Counter[int]
) -> tuple[int, ...] | None:
    """The row's cards with no genre over its share: when one is over, the row keeps its best cards that
    fit and fills the rest with the best candidates that fit and are not shown elsewhere (hard
    de-duplication); None when the row cannot be filled."""
    if problem.within_genre_share(r, slots, cards):
        return tuple(sorted(cards))
    row = problem.rows[r]
    for k in cards:
        used[row.items[k]] -= 1
    elsewhere = [item for item, count in used.items() if count > 0]
    order = list(dict.fromkeys([*sorted(cards), *range(len(row.items))]))
    kept = take_cards(problem, r, slots, order, elsewhere)
    used.update(row.items[k] for k in kept)
    return tuple(sorted(kept)) if len(kept) == slots else None


def _cover(problem: PageProblem, placements: list[Placement]) -> list[Placement]:
    """Page coverage (new items, genres) restored by the cheapest single-card swaps, one at a time, each
    keeping the row's genre share and de-duplication; stops when covered or when no swap helps."""
    constraints = problem.constraints
    while True:
        missed = shortfalls(problem, placements)
        if not (missed["min_new_items"] or missed["min_page_genres"]):
            return placements
        shown = Counter(problem.rows[p.row].items[k] for p in placements for k in p.candidates)
        best: tuple[tuple[float, ...], int, tuple[int, ...]] | None = None
        for index, placement in enumerate(placements):
            row, slots = problem.rows[placement.row], problem.tiles[placement.tile].slots
            for k in range(len(row.items)):
                item = row.items[k]
                if k in placement.candidates or (constraints.dedup == "hard" and shown[item]):
                    continue
                facts = problem.facts[item]
                helps = (missed["min_new_items"] and facts.is_new and not shown[item]) or (
                    missed["min_page_genres"]
                    and any(all(g not in problem.facts[i].genres for i in shown) for g in facts.genres)
                )
                if not helps:
                    continue
                for out in placement.candidates:
                    cards = tuple(sorted([c for c in placement.candidates if c != out] + [k]))
                    if not problem.within_genre_share(placement.row, slots, cards):
                        continue
                    trial = [
                        *placements[:index],
                        Placement(placement.tile, placement.row, cards),
                        *placements[index + 1 :],
                    ]
                    rank = page_rank(problem, trial)
                    if rank > page_rank(problem, placements) and (best is None or rank > best[0]):
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
