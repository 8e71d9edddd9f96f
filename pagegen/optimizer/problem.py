"""The page problem every optimizer solves: a layout's tiles with their attention, the candidate rows
that may fill them (already filtered by the layout's rules), and the constraints.

Attention is what makes position matter: it is the browsing model's examination probability
(``pagegen.layout.browsing``): the tile ``t`` rows from the top is looked at with ``row_decay ** t`` and
the card ``s`` places along a tile with ``slot_decay ** s``, so an item shown at (t, s) with row score
``v`` (the ranker's probability that it is the user's next item, tilted by the popularity slider) is
worth ``row_decay ** t * slot_decay ** s * v``: the page objective, their sum, is the expected number of
good picks the user sees (at β = 0). When duplicates are allowed, each repeat is charged
``dedup_penalty`` × the item's value (``repeat_charge``).

A shown row always fills every card of its tile: a row with fewer candidates than a tile's cards
cannot take that tile. Rows are therefore built deep (``DEPTH_FACTOR`` times the widest tile) and
within the layout's item rules, so de-duplication and genre caps still leave enough to fill them.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pagegen.layout import Constraints, Layout, Tile, rule_label, tile_genre_cap
from pagegen.layout.browsing import slot_examination, tile_examination
from pagegen.rows import CandidateRow, ItemFacts
from pagegen.vocabulary import ASKED_ROW, ROW_TYPES

FORBIDDEN = -1e9  # assignment value of an item or row that may not take a place
Choices = list[tuple[int, int, tuple[int, ...]]]  # (tile, row, cards) of a page being built

DEPTH_FACTOR = 4  # candidates per row, as a multiple of the widest tile: full rows after dedup and caps


def row_depth(layout: Layout) -> int:
    """How many candidates each row keeps for ``layout``."""
    return DEPTH_FACTOR * max(tile.slots for tile in layout.tiles)


@dataclass(frozen=True)
class Relaxation:
    """A constraint the page does not meet, with what was asked and what the page has."""

    constraint: str
    asked: float
    got: float
    note: str

    def describe(self) -> str:
        """One line for people, the same in the CLI and the dashboard: the rule in its slider's words."""
        return f"{rule_label(self.constraint)}: asked {self.asked:g}, got {self.got:g} ({self.note})"


@dataclass(frozen=True)
class PageProblem:
    layout: Layout
    constraints: Constraints
    rows: tuple[CandidateRow, ...]  # eligible rows, candidates filtered, best score first, in builder order
    facts: Mapping[int, ItemFacts]
    user_id: int | None = None
    item_relaxations: tuple[Relaxation, ...] = ()  # item rules the rows were built without (page too small)

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return self.layout.tiles

    def tile_attention(self, tile: int) -> float:
        """The browsing model's P(the tile is looked at): attention down the page."""
        return self._attention[0][tile]

    def slot_attention(self, slot: int) -> float:
        """The browsing model's P(a card is looked at, in a tile that is): attention along a tile."""
        return self._attention[1][slot]

    @functools.cached_property
    def _attention(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Both attentions worked out once: the optimizer reads them for every card of every page it tries."""
        widest = max((tile.slots for tile in self.tiles), default=0)
        return (
            tuple(tile_examination(self.layout, t) for t in range(len(self.tiles))),
            tuple(slot_examination(self.layout, s) for s in range(widest)),
        )

    def keeps_pin(self, row: int, tile: int) -> bool:
        """Whether row ``row`` is what tile ``tile`` is pinned to (or the tile is not pinned): a row type
        (a layout's pins), or one row's id (an asked row, pinned to its own tile so the newest request
        stays on top)."""
        pinned, candidate = self.tiles[tile].pinned, self.rows[row]
        return pinned is None or pinned in (candidate.reason.row_type, candidate.row_id)

    def exclusive(self, tile: int) -> bool:
        """Whether tile ``tile`` is pinned to one row's id (an asked row's): no other row stands in for it."""
        pinned = self.tiles[tile].pinned
        return pinned is not None and pinned not in ROW_TYPES

    def fits(self, row: int, tile: int) -> bool:
        """Whether row ``row`` has candidates enough to fill every card of tile ``tile`` and may take it
        (an exclusive tile takes its own row only)."""
        if self.exclusive(tile) and not self.keeps_pin(row, tile):
            return False
        return len(self.rows[row].items) >= self.tiles[tile].slots

    def genre_cap(self, slots: int) -> int:
        """The most cards of one genre a row may show in a tile of ``slots`` cards (its own genre aside)."""
        return tile_genre_cap(self.constraints.max_genre_share, slots)

    def repeat_charge(self, item: int) -> float:
        """What soft de-duplication charges for each repeat of ``item``: ``dedup_penalty`` × the item's
        value, its highest score in any candidate row (none when that is below zero). On the scores' own
        scale, whatever it is: a repeat on a card of attention a is worth a × score − penalty × value, so at
        penalty 1 a repeat never pays and at 0.5 only on cards looked at with more than 0.5."""
        return self.constraints.dedup_penalty * max(self._item_value[item], 0.0)

    @functools.cached_property
    def _item_value(self) -> dict[int, float]:
        value: dict[int, float] = {}
        for row in self.rows:
            for item, score in zip(row.items, row.scores, strict=True):
                value[item] = max(value.get(item, score), score)
        return value

    def capped_genres(self, row: CandidateRow) -> frozenset[str]:
        """Genres the per-row share applies to: all but the genre a genre or explore row is about."""
        return self._capped_genres[row.row_id]

    def within_genre_share(self, row: int, slots: int, candidates: Sequence[int]) -> bool:
        """Whether these candidates of row ``row`` keep its genre share in a tile of ``slots`` cards."""
        items, capped = self.rows[row].items, self.capped_genres(self.rows[row])
        counts = Counter(g for k in candidates for g in self.facts[items[k]].genres if g in capped)
        return max(counts.values(), default=0) <= self.genre_cap(slots)

    @functools.cached_property
    def _capped_genres(self) -> dict[str, frozenset[str]]:
        return {
            row.row_id: frozenset({g for item in row.items for g in self.facts[item].genres} - set(row.reason.genres))
            for row in self.rows
        }


def prepare_problem(
    rows: Sequence[CandidateRow],
    facts: Mapping[int, ItemFacts],
    layout: Layout,
    constraints: Constraints | None = None,
    *,
    user_id: int | None = None,
    item_relaxations: tuple[Relaxation, ...] = (),
) -> PageProblem:
    """Keep the rows the layout allows and, in each, the items that pass the item-level rules (allowed
    genres, minimum relevance), best score first, at most ``row_depth(layout)``; drop rows left empty.
    An asked row keeps the relevance floor itself, giving way only to stay full (its explanations say
    which items are below it): what a person asked for outranks the floor."""
    constraints = constraints or layout.constraints
    allowed_genres = set(constraints.allowed_genres)
    depth = row_depth(layout)
    kept: list[CandidateRow] = []
    for row in rows:
        if row.reason.row_type not in layout.allowed_row_types:
            continue
        chosen = [
            index
            for index, (item, relevance) in enumerate(zip(row.items, row.relevance, strict=True))
            if (relevance >= constraints.min_relevance_quantile or row.reason.row_type == ASKED_ROW)
            and (not allowed_genres or allowed_genres & set(facts[item].genres))
        ]
        chosen = sorted(chosen, key=lambda i: (-row.scores[i], i))[:depth]
        if chosen:
            kept.append(
                CandidateRow(
                    row_id=row.row_id,
                    reason=row.reason,
                    items=tuple(row.items[i] for i in chosen),
                    scores=tuple(row.scores[i] for i in chosen),
                    relevance=tuple(row.relevance[i] for i in chosen),
                    title=row.title,
                    explanations=tuple(row.explanations[i] for i in chosen) if row.explanations else (),
                )
            )
    return PageProblem(
        layout=layout,
        constraints=constraints,
        rows=tuple(kept),
        facts=facts,
        user_id=user_id,
        item_relaxations=item_relaxations,
    )
