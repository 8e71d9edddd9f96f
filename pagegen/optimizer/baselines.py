"""Baselines on the ILP's candidates and objective.

- greedy: the row-by-row page builder of full-page-recommender. Tile by tile from the top, take the row
  whose position-weighted score is best, after each item's score is multiplied by
  ``penalty ** temperature``; every chosen row cools all temperatures by ``cooling`` and raises those
  of the items it shows by one, so repeats fade instead of being forbidden (with hard de-duplication a
  shown item is simply skipped).
- mmr: the same row choice, but each row's cards picked by maximal marginal relevance,
  ``λ · score − (1 − λ) · max genre similarity to the cards already on the page``.

Both keep the rules a row-by-row builder can keep (pinned and required row types, per-type caps, per-row
genre share, full rows); page-wide coverage is left to chance and reported when missed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from pagegen.optimizer.page import Placement
from pagegen.optimizer.problem import PageProblem

RowFiller = Callable[[PageProblem, int, int, dict[int, float], list[int]], tuple[int, ...]]


def greedy_page(problem: PageProblem, *, cooling: float = 0.5) -> tuple[Placement, ...]:
    """full-page-recommender's greedy builder; ``penalty`` is 1 − dedup_penalty (soft mode)."""
    return _row_by_row(problem, _fill_by_temperature, cooling=cooling)


def mmr_page(problem: PageProblem, *, trade_off: float = 0.7) -> tuple[Placement, ...]:
    """Rows chosen as in greedy, each row's cards picked by MMR over genre similarity."""
    similarity = _PageSimilarity(problem)

    def fill(problem: PageProblem, r: int, slots: int, temperature: dict[int, float], shown: list[int]):
        return _fill_by_mmr(problem, r, slots, shown, similarity, trade_off=trade_off)

    return _row_by_row(problem, fill, cooling=0.0)


def _row_by_row(problem: PageProblem, fill: RowFiller, *, cooling: float) -> tuple[Placement, ...]:
    constraints = problem.constraints
    temperature: dict[int, float] = {}
    shown: list[int] = []
    used_rows: set[int] = set()
    type_counts: Counter[str] = Counter()
    placements = []
    for t, tile in enumerate(problem.tiles):
        unmet_required = [r for r in constraints.required_row_types if type_counts[r] == 0]
        free_tiles_left = sum(1 for later in problem.tiles[t:] if later.pinned is None)
        available = [
            r
            for r, row in enumerate(problem.rows)
            if r not in used_rows and type_counts[row.reason.row_type] < constraints.max_rows_per_type
        ]
        pinned = [r for r in available if tile.pinned and problem.keeps_pin(r, t) and problem.fits(r, t)]
        # a pinned tile takes another row only when none of its type fits, and an exclusive one never
        eligible = pinned or ([] if problem.exclusive(t) else available)
        if tile.pinned is None and 0 < len(unmet_required) >= free_tiles_left:
            reserved = [r for r in eligible if problem.rows[r].reason.row_type in unmet_required]
            eligible = reserved or eligible
        best: tuple[float, int, tuple[int, ...]] | None = None
        for r in eligible:
            candidates = fill(problem, r, tile.slots, temperature, shown)
            if len(candidates) < tile.slots:
                continue
            value = _adjusted_value(problem, r, candidates, temperature)
            if best is None or value > best[0]:
                best = (value, r, candidates)
        if best is None:
            continue
        if tile.pinned is None and unmet_required and problem.rows[best[1]].reason.row_type not in unmet_required:
            best = _keep_required_possible(
                problem, best, unmet_required, eligible, used_rows, shown, tile.slots, fill, temperature
            )
        _, r, candidates = best
        # the cards run best first (candidates are sorted best score first), whatever order the fill chose
        placements.append(Placement(tile=t, row=r, candidates=tuple(sorted(candidates))))
        used_rows.add(r)
        type_counts[problem.rows[r].reason.row_type] += 1
        for item in temperature:
            temperature[item] *= cooling
        for c in candidates:
            item = problem.rows[r].items[c]
            temperature[item] = temperature.get(item, 0.0) + 1.0
            shown.append(item)
    return tuple(placements)


def _keep_required_possible(
    problem: PageProblem,
    best: tuple[float, int, tuple[int, ...]],
    required: list[str],
    eligible: list[int],
    used_rows: set[int],
    shown: list[int],
    slots: int,
    fill: RowFiller,
    temperature: dict[int, float],
) -> tuple[float, int, tuple[int, ...]]:
    """``best``, unless showing its items would leave a required row type with no row that can still
    be filled; then the best row of that type, now, while it can be."""
    _, r, candidates = best
    after = shown + [problem.rows[r].items[c] for c in candidates]
    for row_type in required:
        rows = [i for i, row in enumerate(problem.rows) if row.reason.row_type == row_type and i not in used_rows]
        possible = [i for i in rows if len(take_cards(problem, i, slots, _all(problem, i), after)) == slots]
        if rows and not possible:
            options = []
            for i in (i for i in rows if i in eligible):
                filled = fill(problem, i, slots, temperature, shown)
                if len(filled) == slots:
                    options.append((_adjusted_value(problem, i, filled, temperature), i, filled))
            if options:
                return max(options, key=lambda option: (option[0], -option[1]))
    return best


def _all(problem: PageProblem, r: int) -> list[int]:
    return list(range(len(problem.rows[r].items)))


def _penalty(problem: PageProblem) -> float:
    return 1.0 - problem.constraints.dedup_penalty


def _allowed(problem: PageProblem, r: int, candidate: int, shown: list[int]) -> bool:
    return problem.constraints.dedup != "hard" or problem.rows[r].items[candidate] not in shown


def take_cards(problem: PageProblem, r: int, slots: int, order: list[int], shown: list[int]) -> tuple[int, ...]:
    """The first ``slots`` candidates in ``order`` that keep de-duplication and the genre share."""
    if slots <= 0:
        return ()
    row = problem.rows[r]
    capped, cap, facts = problem.capped_genres(row), problem.genre_cap(slots), problem.facts
    taken_before = set(shown) if problem.constraints.dedup == "hard" else ()
    genre_counts: Counter[str] = Counter()
    taken: list[int] = []
    for candidate in order:
        item = row.items[candidate]
        if item in taken_before:
            continue
        genres = [g for g in facts[item].genres if g in capped]
        if all(genre_counts[g] < cap for g in genres):
            taken.append(candidate)
            genre_counts.update(genres)
            if len(taken) == slots:
                break
    return tuple(taken)


def _fill_by_temperature(
    problem: PageProblem, r: int, slots: int, temperature: dict[int, float], shown: list[int]
) -> tuple[int, ...]:
    row = problem.rows[r]
    adjusted = [
        score * _penalty(problem) ** temperature.get(item, 0.0)
        for item, score in zip(row.items, row.scores, strict=True)
    ]
    order = sorted(_all(problem, r), key=lambda c: (-adjusted[c], c))
    return take_cards(problem, r, slots, order, shown)


class _PageSimilarity:
    """Genre similarity (Jaccard) of every pair of the problem's items, computed at once as arrays, and
    each item's highest similarity to the items on the page, brought up to date as the page grows: MMR
    compares no pair in Python and none twice."""

    def __init__(self, problem: PageProblem) -> None:
        items = list(problem.facts)
        genres = sorted({g for facts in problem.facts.values() for g in facts.genres})
        column = {g: j for j, g in enumerate(genres)}
        self.index = {item: i for i, item in enumerate(items)}
        matrix = np.zeros((len(items), len(genres)), dtype=np.float64)
        for i, item in enumerate(items):
            matrix[i, [column[g] for g in set(problem.facts[item].genres)]] = 1.0
        sizes = matrix.sum(axis=1)
        shared = matrix @ matrix.T
        union = sizes[:, None] + sizes[None, :] - shared
        self.pairs = np.divide(shared, union, out=np.ones_like(shared), where=union > 0)  # 1 when neither has a genre
        self.to_page = np.zeros(len(items))  # each item's highest similarity to the page so far
        self.counted = 0  # how many of the page's items ``to_page`` accounts for

    def follow(self, shown: list[int]) -> None:
        """Account for the page's items shown since the last call."""
        for item in shown[self.counted :]:
            np.maximum(self.to_page, self.pairs[self.index[item]], out=self.to_page)
        self.counted = len(shown)


def _fill_by_mmr(
    problem: PageProblem, r: int, slots: int, shown: list[int], similarity: _PageSimilarity, *, trade_off: float
) -> tuple[int, ...]:
    """MMR card by card: a candidate's similarity to the page is the higher of its similarity to the rows
    above and to the cards taken here so far; the first pick wins ties (max over (value, -c))."""
    row = problem.rows[r]
    similarity.follow(shown)
    capped, cap = problem.capped_genres(row), problem.genre_cap(slots)
    candidates = np.array([c for c in _all(problem, r) if _allowed(problem, r, c, shown)], dtype=np.int64)
    rows = np.array([similarity.index[row.items[c]] for c in candidates], dtype=np.int64)
    scores = np.array([row.scores[c] for c in candidates], dtype=np.float64)
    capped_of = [{g for g in problem.facts[row.items[c]].genres if g in capped} for c in candidates]
    to_page = similarity.to_page[rows]
    open_ = np.ones(len(candidates), dtype=bool)
    genre_counts: Counter[str] = Counter()
    taken: list[int] = []
    while len(taken) < slots:
        if not open_.any():
            break
        value = np.where(open_, trade_off * scores - (1 - trade_off) * to_page, -np.inf)
        pick = int(np.argmax(value))  # the first of equal values: the lowest candidate
        taken.append(int(candidates[pick]))
        open_[pick] = False
        genre_counts.update(capped_of[pick])
        full = {g for g in capped_of[pick] if genre_counts[g] >= cap}
        if full:
            open_ &= np.array([not (full & genres) for genres in capped_of])
        to_page = np.maximum(to_page, similarity.pairs[rows[pick], rows])
    # MMR chooses which items; the cards still run best score first, as attention falls along the row.
    return tuple(sorted(taken, key=lambda c: (-row.scores[c], c)))


def _adjusted_value(problem: PageProblem, r: int, candidates: tuple[int, ...], temperature: dict[int, float]) -> float:
    """Position-weighted score of a filled row, each item discounted by its temperature."""
    row = problem.rows[r]
    return sum(
        problem.slot_attention(s) * row.scores[c] * _penalty(problem) ** temperature.get(row.items[c], 0.0)
        for s, c in enumerate(candidates)
    )
