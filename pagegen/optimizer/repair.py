"""The primal side of the decomposition: a real page from a priced one.

A priced page may repeat items and break genre shares. Its rows are kept in its tiles, top tile first,
each keeping the cards no row above took and filling up with its best candidates that fit (seeded by
the priced cards, and again by an assignment of items to cards), then the page's coverage is restored
by the cheapest single-card swaps. Every step is counted, never timed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from pagegen.optimizer.baselines import take_cards
from pagegen.optimizer.page import Placement, best_page, better_rows_higher, row_value, shortfalls
from pagegen.optimizer.problem import FORBIDDEN, Choices, PageProblem


def repair(problem: PageProblem, choices: Choices, bonus: dict[int, float]) -> tuple[Placement, ...]:
    """A real page from a priced one: its rows in its tiles (better rows higher among equal tiles), cards
    chosen again without repeats (items the coverage prices favour worth their ``bonus`` more), then each
    row's genre share and the page's coverage restored."""
    if not choices or not within_type_caps(problem, [r for _, r, _ in choices]):
        return ()
    pages = [better_rows_higher(problem, fill_in_order(problem, choices))]
    if problem.constraints.dedup == "hard":
        # The cards again, every placed row's at once for the rows' order (once: a second and third round,
        # ordering rows by those cards and choosing again, added 0.01 % to a default page and 30 % to its
        # solve, measured on 40 users).
        order = {t: r for t, r, _ in choices}
        cards = cards_by_assignment(problem, order, bonus)
        if cards is not None:
            pages.append(
                better_rows_higher(problem, fill_in_order(problem, [(t, order[t], tuple(cards[t])) for t in order]))
            )
    return best_page(problem, [tuple(cover(problem, page)) for page in pages if page])


def as_shown(problem: PageProblem, choices: Choices) -> tuple[Placement, ...] | None:
    """The priced page itself when it breaks no hard rule (no repeat under hard de-duplication, every
    row within its genre share): at good prices it is often the best page."""
    if not choices:
        return None
    shown = [problem.rows[r].items[k] for _, r, cards in choices for k in cards]
    if problem.constraints.dedup == "hard" and len(shown) != len(set(shown)):
        return None
    if not within_type_caps(problem, [r for _, r, _ in choices]):
        return None
    if not all(problem.within_genre_share(r, problem.tiles[t].slots, cards) for t, r, cards in choices):
        return None
    return tuple(cover(problem, better_rows_higher(problem, [Placement(t, r, cards) for t, r, cards in choices])))


def fill_in_order(problem: PageProblem, choices: Choices) -> list[Placement]:
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


def cards_by_assignment(
    problem: PageProblem, rows: dict[int, int], bonus: dict[int, float]
) -> dict[int, list[int]] | None:
    """Every placed row's cards at once: items to (tile, card) positions, each item once, worth
    attention × score plus its bonus. Within a row the assignment puts the best item first by itself.
    The table is built a tile's cards at a time, as arrays."""
    tiles = sorted(rows)
    items = np.array(sorted({item for r in rows.values() for item in problem.rows[r].items}))
    extra = np.array([bonus.get(item, 0.0) for item in items.tolist()]) if bonus else np.zeros(len(items))
    sizes = [problem.tiles[t].slots for t in tiles]
    worth = np.full((sum(sizes), len(items)), FORBIDDEN)
    start = 0
    for t, slots in zip(tiles, sizes, strict=True):
        row = problem.rows[rows[t]]
        columns = np.searchsorted(items, row.items)
        attention = problem.tile_attention(t) * np.array([problem.slot_attention(s) for s in range(slots)])
        worth[start : start + slots, columns] = np.outer(attention, row.scores) + extra[columns]
        start += slots
    chosen_positions, chosen_items = linear_sum_assignment(worth, maximize=True)
    if len(chosen_positions) < len(worth) or (worth[chosen_positions, chosen_items] <= FORBIDDEN / 2).any():
        return None  # fewer items than cards, or a card only an item of another row could fill
    owner = np.repeat(np.arange(len(tiles)), sizes)[chosen_positions]
    cards: dict[int, list[int]] = {}
    for index, t in enumerate(tiles):
        column = {item: k for k, item in enumerate(problem.rows[rows[t]].items)}
        cards[t] = sorted(column[item] for item in items[chosen_items[owner == index]].tolist())
    return cards


def cover(problem: PageProblem, placements: list[Placement]) -> list[Placement]:
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


def within_type_caps(problem: PageProblem, rows: Sequence[int]) -> bool:
    counts = Counter(problem.rows[r].reason.row_type for r in rows)
    return max(counts.values(), default=0) <= problem.constraints.max_rows_per_type
