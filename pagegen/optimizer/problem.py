"""The page problem every optimizer solves: a layout's tiles with their attention, the candidate rows
that may fill them (already filtered by the layout's rules), and the constraints.

Attention is what makes position matter: the tile ``t`` rows from the top gets ``row_decay ** t`` and
the card ``s`` places along a tile gets ``slot_decay ** s``, so an item shown at (t, s) with row score
``v`` is worth ``row_decay ** t * slot_decay ** s * v``. The page objective sums that over every shown
card and, when duplicates are allowed, takes ``dedup_penalty`` off for every repeated appearance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pagegen.layout import Constraints, Layout, Tile
from pagegen.rows import CandidateRow, ItemFacts

EXTRA_CANDIDATES = 6  # candidates kept per row beyond the widest tile: room to replace items shown elsewhere
MIN_FILL_SHARE = 0.5  # a row is shown only with at least half of its tile's cards filled


@dataclass(frozen=True)
class PageProblem:
    layout: Layout
    constraints: Constraints
    rows: tuple[CandidateRow, ...]  # eligible rows, candidates filtered and capped, in builder order
    facts: Mapping[int, ItemFacts]
    user_id: int | None = None

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return self.layout.tiles

    def tile_attention(self, tile: int) -> float:
        return self.layout.row_decay**tile

    def slot_attention(self, slot: int) -> float:
        return self.layout.slot_decay**slot

    def candidate_limit(self, slots: int) -> int:
        """How many of a row's candidates may fill a tile of ``slots`` cards."""
        return slots + EXTRA_CANDIDATES

    def min_fill(self, row: CandidateRow, slots: int) -> int:
        """The fewest cards a row may show in a tile of ``slots`` cards."""
        return min(len(row.items), max(1, math.ceil(MIN_FILL_SHARE * slots)))

    def genre_cap(self, row: CandidateRow, slots: int) -> int:
        """The most cards of one genre a row may show in a tile of ``slots`` cards (its own genre aside)."""
        return max(1, math.floor(self.constraints.max_genre_share * slots))

    def capped_genres(self, row: CandidateRow) -> set[str]:
        """Genres the per-row share applies to: all but the genre a genre or explore row is about."""
        present = {g for item in row.items for g in self.facts[item].genres}
        return present - set(row.reason.genres)


def prepare_problem(
    rows: Sequence[CandidateRow],
    facts: Mapping[int, ItemFacts],
    layout: Layout,
    constraints: Constraints | None = None,
    *,
    user_id: int | None = None,
) -> PageProblem:
    """Keep the rows the layout allows and, in each, the items that pass the item-level rules (allowed
    genres, minimum relevance); cap each row's candidates; drop rows left empty."""
    constraints = constraints or layout.constraints
    allowed_genres = set(constraints.allowed_genres)
    keep = max(tile.slots for tile in layout.tiles) + EXTRA_CANDIDATES
    kept: list[CandidateRow] = []
    for row in rows:
        if row.reason.row_type not in layout.allowed_row_types:
            continue
        chosen = [
            index
            for index, (item, relevance) in enumerate(zip(row.items, row.relevance, strict=True))
            if relevance >= constraints.min_relevance_quantile
            and (not allowed_genres or allowed_genres & set(facts[item].genres))
        ][:keep]
        if chosen:
            kept.append(
                CandidateRow(
                    row_id=row.row_id,
                    reason=row.reason,
                    items=tuple(row.items[i] for i in chosen),
                    scores=tuple(row.scores[i] for i in chosen),
                    relevance=tuple(row.relevance[i] for i in chosen),
                    title=row.title,
                )
            )
    return PageProblem(layout=layout, constraints=constraints, rows=tuple(kept), facts=facts, user_id=user_id)
