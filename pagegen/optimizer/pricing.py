"""The dual side of the decomposition: the page's rules priced, and the priced page solved exactly.

With prices on each item's appearances (de-duplication), each row's cards of a genre (the genre
share), rows per type, required row types and coverage, the page falls apart into small pieces:

- a row's best cards for a tile: exactly ``slots`` of its candidates, the best score on the first card
  (the rearrangement inequality), chosen by a dynamic program over the cards, vectorised over every
  row × tile pair of one tile size;
- rows to tiles: an assignment (scipy's ``linear_sum_assignment``).

The priced page's value bounds every page from above (weak duality); ``subgradient`` says how far it
breaks each priced rule, which is where ``decompose`` moves the prices next.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from pagegen.optimizer.problem import FORBIDDEN, Choices, PageProblem

FORCED = 1e6  # added to a row's assignment values when the page must show it: it outweighs any page


@dataclass(frozen=True)
class Pairs:
    """Every (row, tile) pair of one tile size, for the vectorised dynamic program."""

    slots: int
    rows: np.ndarray
    tiles: np.ndarray
    attention: np.ndarray


@dataclass(frozen=True)
class Prices:
    """The prices of the relaxed rules; each makes breaking its rule cost and keeping it pay."""

    item: np.ndarray  # each item's appearances beyond one
    group: np.ndarray  # each (row, tile size, genre) over its share
    cap: dict[str, float]  # each row type over max_rows_per_type
    need: dict[str, float]  # each required type (of several rows) missing
    new: float  # per new card, for the page's new items
    genres: float  # per genre covered, for the page's genres
    genre: np.ndarray  # per genre: covered only with a card of it

    @classmethod
    def zeros(cls, pieces: Pieces) -> Prices:
        """No rule priced yet: the priced page is the best page without the rules that tie rows."""
        return cls(
            item=np.zeros(len(pieces.item_ids)),
            group=np.zeros(len(pieces.groups)),
            cap=dict.fromkeys(pieces.capped_types, 0.0),
            need=dict.fromkeys(pieces.required_types, 0.0),
            new=0.0,
            genres=0.0,
            genre=np.zeros(len(pieces.genre_names)),
        )

    def squared_norm(self) -> float:
        """The squared length of these prices read as a step."""
        parts = (self.item, self.group, [*self.cap.values()], [*self.need.values()], self.new, self.genres, self.genre)
        return float(sum(np.square(part).sum() for part in parts))

    def moved(self, step: Prices, size: float, item_cap: np.ndarray) -> Prices:
        """These prices moved ``size`` against ``step``, kept at or above zero (items also below their cap)."""
        return Prices(
            item=np.clip(self.item - size * step.item, 0.0, item_cap),
            group=np.maximum(self.group - size * step.group, 0.0),
            cap={k: max(v - size * step.cap[k], 0.0) for k, v in self.cap.items()},
            need={k: max(v - size * step.need[k], 0.0) for k, v in self.need.items()},
            new=max(self.new - size * step.new, 0.0),
            genres=max(self.genres - size * step.genres, 0.0),
            genre=np.maximum(self.genre - size * step.genre, 0.0),
        )


class Pieces:
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
        # An item's price stays below what a repeat of it costs: unbounded under hard de-duplication.
        self.price_cap = (
            np.full(len(items), np.inf)
            if constraints.dedup == "hard"
            else np.array([problem.repeat_charge(item) for item in items])
        )
        self.slot_attention = np.array([problem.slot_attention(s) for s in range(max(t.slots for t in tiles))])

        # Which tiles a row may take: enough candidates, and the pinned row on the pinned tiles every
        # page as good as the best keeps. Asked rows' tiles, filled tiles and kept pins rank in that
        # order (RELAXATION_ORDER), so those tiles are found by a lexicographic assignment.
        fits = np.array(
            [[problem.fits(r, t) for t in range(len(tiles))] for r in range(len(rows))], dtype=bool
        ).reshape(len(rows), len(tiles))
        keeps = np.array(
            [
                [tiles[t].pinned is not None and problem.keeps_pin(r, t) for t in range(len(tiles))]
                for r in range(len(rows))
            ],
            dtype=bool,
        ).reshape(len(rows), len(tiles))
        best = most_kept(problem, fits, keeps)
        self.fillable, self.asked_kept, self.pins_kept = best
        # A pinned tile is kept on every such page when not keeping it costs a level; the other pinned
        # tiles are kept on some of them and not on others: any fitting row may take them in the bound.
        self.pinned_kept = {
            t
            for t, tile in enumerate(tiles)
            if tile.pinned is not None
            and (fits[:, t] & keeps[:, t]).any()
            and most_kept(problem, fits & ~(keeps & (np.arange(len(tiles)) == t)[None, :]), keeps) < best
        }
        allowed = fits & (keeps | ~np.isin(np.arange(len(tiles)), sorted(self.pinned_kept))[None, :])
        self.allowed = allowed
        self.pairs = []
        for slots in sorted({tile.slots for tile in tiles}):
            rs, ts = np.nonzero(allowed & np.array([tile.slots == slots for tile in tiles])[None, :])
            attention = np.array([problem.tile_attention(t) for t in ts])
            self.pairs.append(Pairs(slots, rs, ts, attention))

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
        self.may_leave_empty = self.fillable < len(tiles)

    def solve(self, prices: Prices, levels: tuple[int, int]) -> tuple[float, Choices]:
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
            best, chosen = best_cards(
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


def most_kept(problem: PageProblem, fits: np.ndarray, keeps: np.ndarray) -> tuple[int, int, int]:
    """The most (filled tiles, asked rows' tiles kept, other pinned tiles kept) an assignment of rows to
    the tiles they ``fits`` can reach, compared in that order (weights one unit of a level outweighs all
    of the next). Asked rows' tiles rank above filling in RELAXATION_ORDER, but an asked row's tile takes
    only its own row, which can always move there from another tile without emptying one: filling the
    most tiles never costs an asked row, so the order of those two levels does not matter."""
    n_rows, n_tiles = fits.shape
    if not n_rows or not n_tiles:
        return 0, 0, 0
    exclusive = np.array([problem.exclusive(t) for t in range(n_tiles)])
    base = n_tiles + 1  # each level counts at most n_tiles units: one unit of a level outweighs the rest
    weight = np.where(
        fits,
        base**2 + np.where(exclusive[None, :], base, 0) + np.where(keeps & ~exclusive[None, :], 1, 0),
        0,
    ).astype(float)
    rows, tiles = linear_sum_assignment(weight, maximize=True)
    chosen = fits[rows, tiles]
    return (
        int(chosen.sum()),
        int((chosen & exclusive[tiles]).sum()),
        int((chosen & keeps[rows, tiles] & ~exclusive[tiles]).sum()),
    )


def best_cards(
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


def subgradient(problem: PageProblem, pieces: Pieces, prices: Prices, choices: Choices) -> Prices:
    """How far the priced page breaks each priced rule (the bound's subgradient), projected: a price at
    zero (or at its cap) that the step would push past it stays there and does not count in the step's
    length, which would otherwise shrink every other step. Coverage is pushed towards what the layout
    asks, so the priced pages look for it even before a page reaches it."""
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
    max_rows = problem.constraints.max_rows_per_type
    covers = np.where(prices.genres > prices.genre, 1.0, np.minimum(genre_cards, 1.0))
    new = projected(np.array([prices.new]), np.array([float(new_cards - pieces.reachable_new)]))
    genres = projected(np.array([prices.genres]), np.array([covers.sum() - pieces.reachable_genres]))
    genre = projected(prices.genre, genre_cards - covers)
    if not pieces.reachable_new:
        new[:] = 0.0
    if not pieces.reachable_genres:
        genres[:], genre[:] = 0.0, 0.0
    return Prices(
        item=projected(prices.item, (1.0 - appearances[: len(pieces.item_ids)]) * pieces.shared, pieces.price_cap),
        group=projected(prices.group, in_group),
        cap={k: float(projected(np.array([v]), np.array([max_rows - placed_types[k]], dtype=float))[0])
             for k, v in prices.cap.items()},
        need={k: float(projected(np.array([v]), np.array([placed_types[k] - 1.0]))[0]) for k, v in prices.need.items()},
        new=float(new[0]),
        genres=float(genres[0]),
        genre=genre,
    )  # fmt: skip


def projected(prices: np.ndarray, step: np.ndarray, cap: float | np.ndarray = np.inf) -> np.ndarray:
    """``step`` without the parts that would push a prices below zero or above ``cap``, where it sits."""
    return np.where(((prices <= 0) & (step > 0)) | ((prices >= cap) & (step < 0)), 0.0, step)
