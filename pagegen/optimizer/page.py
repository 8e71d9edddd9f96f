"""What every optimizer returns: a Page (rows in order, items in order, with reasons and score parts)
and a SolverReport; plus the one page objective and the one constraint check all optimizers share, so
the ILP and its baselines are measured by the same rule."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pagegen.optimizer.problem import PageProblem
from pagegen.rows import RowReason

# Charge per unit of relaxation. Each exceeds the best page's whole objective (well under 100 for 30
# tiles), so a rule gives way only when it cannot be met, and a higher one only after the lower ones.
RELAXATION_ORDER = ("min_new_items", "min_page_genres", "required_row_types", "pinned")
RELAXATION_CHARGE = {name: 100.0 * 10**rank for rank, name in enumerate(RELAXATION_ORDER)}


@dataclass(frozen=True)
class Placement:
    """One filled tile: which candidate row, and which of its candidates in card order."""

    tile: int
    row: int  # index into PageProblem.rows
    candidates: tuple[int, ...]  # indices into that row's items, first card first


@dataclass(frozen=True)
class PageItem:
    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    score: float  # the row score the objective counts (base + popularity bias)
    relevance: float  # the user's personal relevance percentile
    popularity: float
    popularity_bias: float  # β · popularity: the slider's part of ``score``
    attention: float  # tile attention × card attention
    is_new: bool


@dataclass(frozen=True)
class PageRow:
    tile: int
    kind: str
    slots: int
    columns: int | None
    row_id: str
    title: str
    reason: RowReason
    items: tuple[PageItem, ...]
    attention: float
    title_source: str = "template"  # template, model or cache (the titles stage sets it)
    title_note: str = ""  # why a row kept its template title


@dataclass(frozen=True)
class Relaxation:
    """A constraint the page does not meet, with what was asked and what the page has."""

    constraint: str
    asked: float
    got: float
    note: str


@dataclass(frozen=True)
class SolverReport:
    optimizer: str  # the optimizer that produced the page: ilp, greedy or mmr
    status: str  # optimal, time_limit (best page found, gap below), heuristic, or fallback
    objective: float
    best_bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    relaxations: tuple[Relaxation, ...] = ()
    message: str = ""
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)  # name → objective, gap to this page


@dataclass(frozen=True)
class Page:
    user_id: int | None
    layout: str
    rows: tuple[PageRow, ...]
    report: SolverReport

    @property
    def item_ids(self) -> list[int]:
        return [item.item_id for row in self.rows for item in row.items]

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """The page as plain data. Without ``timings`` it holds no clock readings, so the same inputs give
        the same JSON byte for byte."""
        data = dataclasses.asdict(self)
        if not timings:
            for key in ("build_seconds", "solve_seconds"):
                del data["report"][key]
        return data


def page_objective(problem: PageProblem, placements: Sequence[Placement]) -> float:
    """Attention-weighted row scores of every card, less the duplicate penalty (soft de-duplication)."""
    value = 0.0
    appearances: Counter[int] = Counter()
    for placement in placements:
        row = problem.rows[placement.row]
        tile_attention = problem.tile_attention(placement.tile)
        for slot, candidate in enumerate(placement.candidates):
            value += tile_attention * problem.slot_attention(slot) * row.scores[candidate]
            appearances[row.items[candidate]] += 1
    duplicates = sum(count - 1 for count in appearances.values())
    return value - problem.constraints.dedup_penalty * duplicates


def unmet_constraints(problem: PageProblem, placements: Sequence[Placement]) -> tuple[Relaxation, ...]:
    """Every page-level constraint the placements do not meet, in the documented relaxation order."""
    constraints = problem.constraints
    shown = [problem.rows[p.row].items[c] for p in placements for c in p.candidates]
    types = Counter(problem.rows[p.row].reason.row_type for p in placements)
    unmet: list[Relaxation] = []
    new_items = len({item for item in shown if problem.facts[item].is_new})
    if new_items < constraints.min_new_items:
        unmet.append(Relaxation("min_new_items", constraints.min_new_items, new_items, "too few new items qualify"))
    genres = len({g for item in shown for g in problem.facts[item].genres})
    if genres < constraints.min_page_genres:
        unmet.append(
            Relaxation("min_page_genres", constraints.min_page_genres, genres, "the candidates cover too few genres")
        )
    for row_type in constraints.required_row_types:
        if types[row_type] == 0:
            unmet.append(Relaxation(f"required_row_types.{row_type}", 1, 0, f"no {row_type} row fits on the page"))
    filled = {p.tile: problem.rows[p.row].reason.row_type for p in placements}
    for index, tile in enumerate(problem.tiles):
        if tile.pinned is not None and filled.get(index) != tile.pinned:
            unmet.append(Relaxation(f"tiles[{index}].pinned", 1, 0, f"no {tile.pinned} row could fill the tile"))
    if len(filled) < len(problem.tiles):
        unmet.append(Relaxation("fill_every_tile", len(problem.tiles), len(filled), "not enough rows qualify"))
    if constraints.dedup == "hard" and len(shown) != len(set(shown)):
        unmet.append(Relaxation("dedup", 0, len(shown) - len(set(shown)), "items repeat on the page"))
    return tuple(unmet)


def relaxation_charge(relaxations: Iterable[Relaxation]) -> float:
    """What the ILP charges for a page's relaxations (unfilled tiles and repeats are not charged)."""
    family = {"min_new_items": "min_new_items", "min_page_genres": "min_page_genres"}
    total = 0.0
    for relaxation in relaxations:
        name = relaxation.constraint
        kind = family.get(name, "required_row_types" if name.startswith("required_row_types.") else None)
        kind = "pinned" if name.endswith(".pinned") else kind
        if kind is not None:
            total += RELAXATION_CHARGE[kind] * (relaxation.asked - relaxation.got)
    return total


def best_page(problem: PageProblem, pages: Iterable[Sequence[Placement]]) -> tuple[Placement, ...]:
    """The page the ILP would prefer: least relaxation charged, then the highest objective."""
    best = max(
        pages,
        key=lambda p: (-relaxation_charge(unmet_constraints(problem, p)), page_objective(problem, p)),
        default=(),
    )
    return tuple(best)


def assemble_page(problem: PageProblem, placements: Sequence[Placement], report: SolverReport) -> Page:
    """The Page for placements, top tile first; empty tiles are left out."""
    beta = problem.constraints.popularity_beta
    rows = []
    for placement in sorted(placements, key=lambda p: p.tile):
        row, tile = problem.rows[placement.row], problem.tiles[placement.tile]
        tile_attention = problem.tile_attention(placement.tile)
        items = []
        for slot, candidate in enumerate(placement.candidates):
            item_id = row.items[candidate]
            facts = problem.facts[item_id]
            items.append(
                PageItem(
                    item_id=item_id,
                    title=facts.title,
                    year=facts.year,
                    genres=facts.genres,
                    score=row.scores[candidate],
                    relevance=row.relevance[candidate],
                    popularity=facts.popularity,
                    popularity_bias=round(beta * facts.popularity, 6),
                    attention=round(tile_attention * problem.slot_attention(slot), 6),
                    is_new=facts.is_new,
                )
            )
        rows.append(
            PageRow(
                tile=placement.tile,
                kind=tile.kind,
                slots=tile.slots,
                columns=tile.columns,
                row_id=row.row_id,
                title=row.title,
                reason=row.reason,
                items=tuple(items),
                attention=round(tile_attention, 6),
            )
        )
    return Page(user_id=problem.user_id, layout=problem.layout.name, rows=tuple(rows), report=report)
