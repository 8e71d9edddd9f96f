"""What every optimizer returns: a Page (rows in order, items in order, with reasons and score parts)
and a SolverReport; plus the one page objective and the one constraint check all optimizers share, so
the ILP and its baselines are measured by the same rule."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pagegen.optimizer.problem import PageProblem, Relaxation
from pagegen.rows import RowReason
from pagegen.rows.candidates import popularity_tilt

# The page-level rules that give way when they cannot all be kept, the first to give way first. They give
# way lexicographically: one unit more of a later rule outweighs any amount of the earlier ones and of
# the objective (pages are compared by ``shortfalls`` first, and the ILP's charges dominate likewise).
# An asked row's tile gives way last: what a person asked for outranks every rule of the layout (a
# layout's own pages have no asked rows, so for them the order ends at fill_every_tile).
RELAXATION_ORDER = (
    "min_new_items", "min_page_genres", "required_row_types", "pinned", "fill_every_tile", "asked_rows",
)  # fmt: skip


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
    score: float  # the card's value the objective counts (its probability, tilted by the popularity slider)
    relevance: float  # the user's personal relevance percentile
    popularity: float
    popularity_bias: float  # the popularity slider's part of ``score``
    attention: float  # the browsing model's examination probability: tile × card
    is_new: bool
    why: str = ""  # why the item is in its row, where the row's reason alone does not say (an asked row)
    probability: float = 0.0  # the ranker's P(this is the user's next item)


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
    order_note: str = ""  # why the row sits above a row worth more (a pin, an ask), where it does


@dataclass(frozen=True)
class SolverReport:
    optimizer: str  # the optimizer that produced the page: ilp, greedy or mmr
    status: str  # optimal (proven within the gap), bounded (within the gap reported), limit (solver nodes or rounds), unproven, heuristic
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

    @property
    def expected_good_picks(self) -> float:
        """Under the browsing model, how many cards the user would want among those they look at:
        Σ examination × P(next item) over the cards (the objective at popularity β = 0)."""
        return sum(item.attention * item.probability for row in self.rows for item in row.items)

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """The page as plain data. Without ``timings`` it holds no clock readings, so the same inputs give
        the same JSON byte for byte."""
        data = dataclasses.asdict(self)
        if not timings:
            for key in ("build_seconds", "solve_seconds"):
                del data["report"][key]
        data["expected_good_picks"] = round(self.expected_good_picks, 6)
        return data


def solver_line(report: SolverReport) -> str:
    """How the optimizer did, in one line: the CLI's page text and the dashboard's caption both show it."""
    gap = "" if report.gap is None else f", gap {report.gap:.2%}" if report.gap < 1 else ", far from the bound"
    return f"{report.optimizer} {report.status}, objective {report.objective:.4f}{gap}"


def plain_solver_line(report: SolverReport) -> str:
    """How good the page is, in words a person reads without knowing the solver (the dashboard's caption;
    ``solver_line`` and the report's message give the details)."""
    if report.status == "heuristic":
        return f"a quick {report.optimizer.upper()} page (a heuristic: not compared with the best possible)"
    if report.status == "optimal":
        return "the best possible page for these rules" + (
            "" if not report.gap else f" (proven to within {report.gap:.1%})"
        )
    if report.gap is not None and report.gap < 1:
        return f"best page found, within {report.gap:.1%} of the best possible"
    return "best page found (how close it is to the best possible is not known)"


def format_page(page: Page, dataset: str, held_out: int | None = None) -> str:
    """The page as text: each row's title, kind and cards (the held-out next item starred), then how the
    optimizer did: its status, the baselines' shortfall, the rules it relaxed."""
    who = f"user {page.user_id}" if page.user_id is not None else "a new user"
    report = page.report
    lines = [f"{page.layout} for {who} on {dataset}", ""]
    for row in page.rows:
        lines.append(f"{row.title}  [{row.kind} of {row.slots}, {row.reason.source}]")
        if row.reason.request is not None:
            lines.append(f"  You asked: {row.reason.request}")
        for item in row.items:
            mark = "  ★ watched next (held out)" if item.item_id == held_out else ""
            why = f"\n      {item.why}" if item.why else ""
            lines.append(f"  {item.title} ({item.year}) — {', '.join(item.genres)}  [{item.score:.3f}]{mark}{why}")
        lines.append("")
    lines.append(solver_line(report))
    lines.append(f"{page.expected_good_picks:.3f} expected good picks seen (cards wanted × chance they are looked at)")
    for name, baseline in report.baselines.items():
        lines.append(f"  {name}: objective {baseline['objective']:.4f} ({baseline['shortfall']:.2%} below)")
    for relaxation in report.relaxations:
        lines.append(f"relaxed {relaxation.describe()}")
    if report.message:
        lines.append(report.message)
    return "\n".join(lines)


def page_objective(problem: PageProblem, placements: Sequence[Placement]) -> float:
    """Attention-weighted row scores of every card, less each repeat's charge (soft de-duplication)."""
    value = 0.0
    appearances: Counter[int] = Counter()
    for placement in placements:
        row = problem.rows[placement.row]
        tile_attention = problem.tile_attention(placement.tile)
        for slot, candidate in enumerate(placement.candidates):
            value += tile_attention * problem.slot_attention(slot) * row.scores[candidate]
            appearances[row.items[candidate]] += 1
    return value - sum(problem.repeat_charge(item) * (count - 1) for item, count in appearances.items())


@dataclass(frozen=True)
class Shown:
    """What a page shows, counted once for the rule checks."""

    items: tuple[int, ...]  # every card's item, repeats included
    types: Counter[str]  # rows per row type
    filled: dict[int, int]  # tile → row, tiles with a full row only
    new_items: int  # distinct new items
    genres: int  # distinct genres


def shown_on_page(problem: PageProblem, placements: Sequence[Placement]) -> Shown:
    items = tuple(problem.rows[p.row].items[c] for p in placements for c in p.candidates)
    return Shown(
        items=items,
        types=Counter(problem.rows[p.row].reason.row_type for p in placements),
        filled={  # a tile counts as filled only by a full row
            p.tile: p.row for p in placements if len(p.candidates) == problem.tiles[p.tile].slots
        },
        new_items=len({item for item in items if problem.facts[item].is_new}),
        genres=len({g for item in items for g in problem.facts[item].genres}),
    )


def shortfalls(problem: PageProblem, placements: Sequence[Placement]) -> dict[str, int]:
    """How many units of each relaxable rule the placements miss, by RELAXATION_ORDER name."""
    constraints, shown = problem.constraints, shown_on_page(problem, placements)
    unkept = [
        "asked_rows" if problem.exclusive(t) else "pinned"
        for t, tile in enumerate(problem.tiles)
        if tile.pinned is not None and not (t in shown.filled and problem.keeps_pin(shown.filled[t], t))
    ]
    return {
        "min_new_items": max(constraints.min_new_items - shown.new_items, 0),
        "min_page_genres": max(constraints.min_page_genres - shown.genres, 0),
        "required_row_types": sum(shown.types[row_type] == 0 for row_type in constraints.required_row_types),
        "pinned": sum(kind == "pinned" for kind in unkept),
        "fill_every_tile": len(problem.tiles) - len(shown.filled),
        "asked_rows": sum(kind == "asked_rows" for kind in unkept),
    }


def page_rank(problem: PageProblem, placements: Sequence[Placement]) -> tuple[float, ...]:
    """What makes one page better than another: fewer units of the last rule to give way first, and so
    on down RELAXATION_ORDER, then the higher objective. Larger is better."""
    missed = shortfalls(problem, placements)
    return (*(-missed[name] for name in reversed(RELAXATION_ORDER)), page_objective(problem, placements))


def relaxation_charges(problem: PageProblem) -> dict[str, float]:
    """What the ILP charges per unit of each relaxable rule: each charge exceeds the whole objective's
    range plus every unit of the earlier rules, so the program relaxes in RELAXATION_ORDER, as
    ``page_rank`` compares pages."""
    constraints = problem.constraints
    scores = [abs(score) for row in problem.rows for score in row.scores] or [0.0]
    cards = sum(tile.slots for tile in problem.tiles)
    attention = sum(
        problem.tile_attention(t) * sum(problem.slot_attention(s) for s in range(tile.slots))
        for t, tile in enumerate(problem.tiles)
    )
    most_charged = max((problem.repeat_charge(item) for row in problem.rows for item in row.items), default=0.0)
    charge = 2 * (attention * max(scores) + most_charged * cards) + 1.0
    most = {
        "min_new_items": constraints.min_new_items,
        "min_page_genres": constraints.min_page_genres,
        "required_row_types": len(constraints.required_row_types),
        "pinned": sum(tile.pinned is not None and not problem.exclusive(t) for t, tile in enumerate(problem.tiles)),
        "fill_every_tile": len(problem.tiles),
        "asked_rows": sum(problem.exclusive(t) for t in range(len(problem.tiles))),
    }
    charges = {}
    for name in RELAXATION_ORDER:
        charges[name] = charge
        charge *= most[name] + 1
    return charges


def unmet_constraints(problem: PageProblem, placements: Sequence[Placement]) -> tuple[Relaxation, ...]:
    """Every rule the placements do not meet, in the documented relaxation order, each with its cause;
    then the layout's item count and any broken hard rule (never by the optimizers' own pages)."""
    constraints, page = problem.constraints, shown_on_page(problem, placements)
    shown, types, filled, new_items, genres = page.items, page.types, page.filled, page.new_items, page.genres
    unmet: list[Relaxation] = list(problem.item_relaxations)
    if new_items < constraints.min_new_items:
        qualifying = len({i for row in problem.rows for i in row.items if problem.facts[i].is_new})
        unmet.append(
            Relaxation(
                "min_new_items",
                constraints.min_new_items,
                new_items,
                f"{qualifying} new items among the candidates; more would break a rule ranked above",
            )
        )
    if genres < constraints.min_page_genres:
        available = len({g for row in problem.rows for i in row.items for g in problem.facts[i].genres})
        unmet.append(
            Relaxation(
                "min_page_genres",
                constraints.min_page_genres,
                genres,
                f"the candidates cover {available} genres; more would break a rule ranked above",
            )
        )
    for row_type in constraints.required_row_types:
        if types[row_type] == 0:
            fitting = [r for r, row in enumerate(problem.rows) if row.reason.row_type == row_type]
            why = (
                f"no {row_type} row has candidates under the item rules"
                if not fitting
                else f"no {row_type} row can fill a tile beside the rules ranked above it"
            )
            unmet.append(Relaxation(f"required_row_types.{row_type}", 1, 0, why))
    for index, tile in enumerate(problem.tiles):
        if tile.pinned is not None and not (index in filled and problem.keeps_pin(filled[index], index)):
            longest = max(
                (len(row.items) for r, row in enumerate(problem.rows) if problem.keeps_pin(r, index)), default=0
            )
            why = (
                f"no {tile.pinned} row (it needs a history or the layout's item rules leave it out)"
                if longest == 0
                else f"the {tile.pinned} row has {longest} candidates for {tile.slots} cards"
                if longest < tile.slots
                else f"the {tile.pinned} row cannot fill it beside the other rules"
            )
            unmet.append(Relaxation(f"tiles[{index}].pinned", 1, 0, why))
    if len(filled) < len(problem.tiles):
        fitting = sum(any(problem.fits(r, t) for t in range(len(problem.tiles))) for r in range(len(problem.rows)))
        unmet.append(
            Relaxation(
                "fill_every_tile",
                len(problem.tiles),
                len(filled),
                f"{fitting} of {len(problem.rows)} candidate rows have enough items under the item rules to fill a tile",
            )
        )
    if len(set(shown)) < problem.layout.min_items:
        unmet.append(
            Relaxation("min_items", problem.layout.min_items, len(set(shown)), f"the page fills {len(filled)} tiles")
        )
    for placement in placements:
        row, tile = problem.rows[placement.row], problem.tiles[placement.tile]
        if len(placement.candidates) < tile.slots:
            unmet.append(
                Relaxation(f"tiles[{placement.tile}].full", tile.slots, len(placement.candidates), "a short row")
            )
        counts = Counter(g for c in placement.candidates for g in problem.facts[row.items[c]].genres)
        over = [g for g in sorted(problem.capped_genres(row)) if counts[g] > problem.genre_cap(tile.slots)]
        for genre in over:
            unmet.append(
                Relaxation(
                    f"tiles[{placement.tile}].max_genre_share.{genre}",
                    problem.genre_cap(tile.slots),
                    counts[genre],
                    "a genre over its share of the row",
                )
            )
    for row_type, count in sorted(types.items()):
        if count > constraints.max_rows_per_type:
            unmet.append(
                Relaxation(f"max_rows_per_type.{row_type}", constraints.max_rows_per_type, count, "too many such rows")
            )
    if constraints.dedup == "hard" and len(shown) != len(set(shown)):
        unmet.append(Relaxation("dedup", 0, len(shown) - len(set(shown)), "items repeat on the page"))
    return tuple(unmet)


def best_page(problem: PageProblem, pages: Iterable[Sequence[Placement]]) -> tuple[Placement, ...]:
    """The best of ``pages`` by ``page_rank`` (the first of equals)."""
    best: tuple[Placement, ...] = ()
    best_rank: tuple[float, ...] | None = None
    for page in pages:
        rank = page_rank(problem, page)
        if best_rank is None or rank > best_rank:
            best, best_rank = tuple(page), rank
    return best


def better_rows_higher(problem: PageProblem, placements: Sequence[Placement]) -> list[Placement]:
    """The page with the rows of same-size unpinned tiles sorted best first (attention falls down the
    page, so by the rearrangement inequality this order is worth the most), each row's cards best first."""
    groups: dict[int, list[Placement]] = {}
    reordered = []
    for placement in placements:
        placement = Placement(placement.tile, placement.row, tuple(sorted(placement.candidates)))
        if problem.tiles[placement.tile].pinned is None:
            groups.setdefault(problem.tiles[placement.tile].slots, []).append(placement)
        else:
            reordered.append(placement)
    for group in groups.values():
        tiles = sorted(p.tile for p in group)
        ranked = sorted(group, key=lambda p: (-row_value(problem, p.row, p.candidates), p.row))
        reordered += [Placement(t, p.row, p.candidates) for t, p in zip(tiles, ranked, strict=True)]
    return sorted(reordered, key=lambda p: p.tile)


def row_value(problem: PageProblem, row: int, candidates: Sequence[int]) -> float:
    """A row's cards worth, attention along the tile counted, attention down the page not."""
    scores = problem.rows[row].scores
    return sum(problem.slot_attention(s) * scores[k] for s, k in enumerate(candidates))


def _order_note(problem: PageProblem, tile: int, worth: dict[int, float]) -> str:
    """Why tile ``tile``'s row sits above a row worth more, when it does: only a pin puts it there (free
    tiles of one size hold their rows best first)."""
    pinned = problem.tiles[tile].pinned
    if pinned is None or not any(t > tile and value > worth[tile] + 1e-12 for t, value in worth.items()):
        return ""
    if problem.exclusive(tile):
        return "above rows worth more: what you asked for stays on top"
    return f"above rows worth more: the layout pins {pinned.replace('_', ' ')} to this tile"


def assemble_page(problem: PageProblem, placements: Sequence[Placement], report: SolverReport) -> Page:
    """The Page for placements, top tile first; empty tiles are left out."""
    beta = problem.constraints.popularity_beta
    worth = {p.tile: row_value(problem, p.row, p.candidates) for p in placements}
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
                    popularity_bias=round(
                        float(row.scores[candidate] * (1 - 1 / popularity_tilt(facts.popularity, beta))), 9
                    ),
                    attention=round(tile_attention * problem.slot_attention(slot), 6),
                    is_new=facts.is_new,
                    why=row.explanations[candidate] if row.explanations else "",
                    probability=facts.probability,
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
                order_note=_order_note(problem, placement.tile, worth),
            )
        )
    return Page(user_id=problem.user_id, layout=problem.layout.name, rows=tuple(rows), report=report)
