"""The scenario benchmark: the same users' pages under each product scenario, built by each optimizer.

A scenario is a shipped layout with slider settings on top (``SCENARIOS``, the one vocabulary of them).
For every scenario and optimizer the benchmark measures what the page fills (cards against the layout's
card slots, short rows, empty tiles), which rules it had to relax, its objective and page metrics, and
how long the optimizer took; per scenario it also counts users whose greedy page breaks a rule the ILP
page keeps, and users whose ILP objective falls below greedy's. The ILP ranks pages by their relaxed
rules first and objective second, so it may score below a greedy page that breaks a rule; below a
greedy page that falls short of no rule by more than the ILP page does it should never be (it starts
from greedy's page). Pages are built as ``evaluate-pages`` builds them: leave-last-out histories, users
split over an engine's workers (``pagegen.evaluation.workers``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pagegen.batch.engines import TWO_LOCAL_WORKERS, EngineChoice
from pagegen.evaluation.reports import load_typed_report
from pagegen.evaluation.workers import map_users
from pagegen.layout import Layout, resolve_layout
from pagegen.metrics import PageMetrics, catalog_coverage, exposure_gini, page_metrics
from pagegen.optimizer import NODE_LIMIT, OPTIMIZERS, Relaxation, optimize

if TYPE_CHECKING:
    from pagegen.serving import PageService

SCENARIO_USERS = 200  # the first users of the dataset, unless told otherwise
OBJECTIVE_TOLERANCE = 1e-6  # an ILP objective this far below greedy's still counts as not below


@dataclass(frozen=True)
class Scenario:
    name: str
    layout: str  # a shipped layout's name
    settings: tuple[tuple[str, float], ...] = ()  # slider values over the layout's constraints
    description: str = ""

    @property
    def overrides(self) -> dict[str, float]:
        return dict(self.settings)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("default", "default", (), "the default streaming page"),
    Scenario("kids", "kids", (), "only Children's and Animation titles"),
    Scenario("discovery", "discovery", (), "long tail, new items and unexplored genres, required"),
    Scenario(
        "strict-diversity",
        "default",
        (("max_genre_share", 0.2), ("min_page_genres", 14), ("min_new_items", 10)),
        "the default page with strict genre and novelty rules",
    ),
    Scenario("long-tail", "default", (("popularity_beta", -1.0),), "the default page pushed hard to the long tail"),
    Scenario("mixed-tiles", "mixed", (), "hero, carousels, a grid and a banner"),
)


@dataclass(frozen=True)
class OptimizerResult:
    """One optimizer's pages in one scenario, over all users: sums are counts over the pages, the rest
    means per page unless named otherwise."""

    optimizer: str
    pages: int
    filled: float  # cards shown / the layout's card slots
    rows_shown: int
    rows_short: int  # shown rows with fewer cards than their tile's slots
    tiles_empty: int
    relaxed_pages: int  # pages with at least one relaxed rule
    relaxations: dict[str, int]  # relaxed rule → pages that relaxed it
    objective: float
    hit: float
    carousel_ndcg: float
    intra_row_diversity: float
    genres_covered: float
    catalog_coverage: float  # over all the scenario's pages
    exposure_gini: float  # over all the scenario's pages
    p50_ms: float  # the optimizer's time per page
    p95_ms: float
    optimal_share: float | None  # pages proven optimal; None for the heuristics


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    layout: str
    settings: dict[str, float]
    description: str
    card_slots: int
    tiles: int
    optimizers: tuple[OptimizerResult, ...]
    greedy_breaks_ilp_keeps: int | None  # users whose greedy page relaxes a rule their ILP page keeps
    ilp_breaks_greedy_keeps: int | None  # and the other way round
    ilp_below_greedy: int | None  # users whose ILP objective is below greedy's (beyond the tolerance)
    ilp_below_rule_keeping_greedy: int | None  # of those, users whose greedy page is no further off any rule

    def result(self, optimizer: str) -> OptimizerResult:
        for result in self.optimizers:
            if result.optimizer == optimizer:
                return result
        raise KeyError(f"no {optimizer} results here, only {', '.join(r.optimizer for r in self.optimizers)}")


@dataclass(frozen=True)
class ScenarioReport:
    dataset: str
    users: int
    workers: int
    node_limit: int
    seconds: float  # wall time of the pages (workers starting included), not of loading the models here
    scenarios: tuple[ScenarioResult, ...]
    engine: str = "local"  # where the pages were built (``pagegen.batch.engines``)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScenarioReport:
        """The report back from its JSON (``dataclasses.asdict``); a missing or unknown field raises."""
        scenarios = tuple(
            ScenarioResult(
                **{
                    **scenario,
                    "optimizers": tuple(OptimizerResult(**result) for result in scenario["optimizers"]),
                }
            )
            for scenario in data["scenarios"]
        )
        return cls(**{**data, "scenarios": scenarios})


@dataclass(frozen=True)
class Column:
    """A figure of ``OptimizerResult`` as the text table and the dashboard's frame show it."""

    field: str
    label: str
    format: str


SCENARIO_COLUMNS: tuple[Column, ...] = (
    Column("filled", "filled", ".1%"),
    Column("rows_short", "short", "d"),
    Column("tiles_empty", "empty", "d"),
    Column("relaxed_pages", "relaxed", "d"),
    Column("objective", "objective", ".4f"),
    Column("hit", "hit", ".3f"),
    Column("carousel_ndcg", "ndcg", ".4f"),
    Column("intra_row_diversity", "diversity", ".3f"),
    Column("genres_covered", "genres", ".1f"),
    Column("catalog_coverage", "coverage", ".3f"),
    Column("exposure_gini", "gini", ".3f"),
    Column("p50_ms", "p50 ms", ".1f"),
    Column("p95_ms", "p95 ms", ".1f"),
    Column("optimal_share", "optimal", ".1%"),
)


@dataclass(frozen=True)
class _PageOutcome:
    """One user's page in one scenario by one optimizer: what the summary needs, small to pickle."""

    item_ids: tuple[int, ...]
    rows_shown: int
    rows_short: int
    relaxed: tuple[str, ...]
    shortfalls: dict[str, float]  # relaxed rule → how far the page is off it (|asked − got|)
    objective: float
    status: str
    milliseconds: float
    metrics: PageMetrics


_Context = tuple[tuple[tuple[Scenario, Layout], ...], tuple[str, ...], int]


def evaluate_scenarios(
    service: PageService,
    *,
    scenarios: Sequence[Scenario] = SCENARIOS,
    max_users: int = SCENARIO_USERS,
    engine: EngineChoice = TWO_LOCAL_WORKERS,
    node_limit: int = NODE_LIMIT,
    progress: bool = False,
) -> ScenarioReport:
    """Every scenario's pages for the first ``max_users`` users of ``service``'s dataset, by every
    optimizer."""
    layouts = tuple((scenario, resolve_layout(scenario.layout)) for scenario in scenarios)
    for scenario, layout in layouts:
        service.constraints(layout, scenario.overrides)  # a bad setting fails here, named, not in a worker
    user_ids = [int(u) for u in service.user_ids()[:max_users]]
    context: _Context = (layouts, OPTIMIZERS, node_limit)
    started = time.perf_counter()
    per_user = map_users(
        _outcomes_for, context, user_ids, service=service, engine=engine, progress=progress, desc="scenarios"
    )
    seconds = time.perf_counter() - started
    catalogue = service.experiment.serving.n_items
    results = tuple(
        _summarize(scenario, layout, [outcomes[index] for outcomes in per_user], catalogue)
        for index, (scenario, layout) in enumerate(layouts)
    )
    workers = engine.workers or os.cpu_count() or 1
    return ScenarioReport(service.name, len(user_ids), workers, node_limit, round(seconds, 2), results, engine.name)


def _outcomes_for(service: PageService, context: _Context, user_ids: list[int]) -> list[list[dict[str, _PageOutcome]]]:
    """Per user, per scenario: each optimizer's page outcome."""
    layouts, optimizers, node_limit = context
    share = service.item_share
    results = []
    for user_id in user_ids:
        held_out = service.experiment.held_out_item(user_id)
        per_scenario = []
        for scenario, layout in layouts:
            problem = service.problem(user_id, layout, scenario.overrides)
            outcomes = {}
            for name in optimizers:
                started = time.perf_counter()
                page = optimize(problem, name, compare=False, node_limit=node_limit)
                milliseconds = (time.perf_counter() - started) * 1000
                outcomes[name] = _PageOutcome(
                    item_ids=tuple(page.item_ids),
                    rows_shown=len(page.rows),
                    rows_short=sum(len(row.items) < row.slots for row in page.rows),
                    relaxed=tuple(sorted({r.constraint for r in page.report.relaxations})),
                    shortfalls=_shortfalls(page.report.relaxations),
                    objective=page.report.objective,
                    status=page.report.status,
                    milliseconds=milliseconds,
                    metrics=page_metrics(page, held_out=held_out, item_share=share),
                )
            per_scenario.append(outcomes)
        results.append(per_scenario)
    return results


def _summarize(
    scenario: Scenario, layout: Layout, per_user: list[dict[str, _PageOutcome]], catalogue: int
) -> ScenarioResult:
    optimizers = tuple(per_user[0]) if per_user else OPTIMIZERS
    results = tuple(_optimizer_result(name, [u[name] for u in per_user], layout, catalogue) for name in optimizers)
    compared = "ilp" in optimizers and "greedy" in optimizers
    pairs = [(u["ilp"], u["greedy"]) for u in per_user] if compared else []
    return ScenarioResult(
        scenario=scenario.name,
        layout=scenario.layout,
        settings=scenario.overrides,
        description=scenario.description,
        card_slots=layout.total_slots,
        tiles=len(layout.tiles),
        optimizers=results,
        greedy_breaks_ilp_keeps=sum(bool(set(g.relaxed) - set(i.relaxed)) for i, g in pairs) if compared else None,
        ilp_breaks_greedy_keeps=sum(bool(set(i.relaxed) - set(g.relaxed)) for i, g in pairs) if compared else None,
        ilp_below_greedy=sum(_below(i, g) for i, g in pairs) if compared else None,
        ilp_below_rule_keeping_greedy=(
            sum(_below(i, g) and _no_further_off(g, i) for i, g in pairs) if compared else None
        ),
    )


def _shortfalls(relaxations: Sequence[Relaxation]) -> dict[str, float]:
    shortfalls: dict[str, float] = {}
    for r in relaxations:
        shortfalls[r.constraint] = max(shortfalls.get(r.constraint, 0.0), abs(r.asked - r.got))
    return shortfalls


def _below(ilp: _PageOutcome, greedy: _PageOutcome) -> bool:
    return ilp.objective < greedy.objective - OBJECTIVE_TOLERANCE


def _no_further_off(page: _PageOutcome, other: _PageOutcome) -> bool:
    """``page`` relaxes no rule that ``other`` keeps, and none by more than ``other`` does."""
    return all(shortfall <= other.shortfalls.get(rule, 0.0) for rule, shortfall in page.shortfalls.items())


def _optimizer_result(name: str, outcomes: list[_PageOutcome], layout: Layout, catalogue: int) -> OptimizerResult:
    pages = [o.item_ids for o in outcomes]
    milliseconds = np.array([o.milliseconds for o in outcomes]) if outcomes else np.zeros(1)
    relaxations = Counter(rule for o in outcomes for rule in o.relaxed)

    def mean(values: Sequence[float]) -> float:
        return float(np.mean(values)) if len(values) else 0.0

    return OptimizerResult(
        optimizer=name,
        pages=len(outcomes),
        filled=mean([o.metrics.items / layout.total_slots for o in outcomes]),
        rows_shown=sum(o.rows_shown for o in outcomes),
        rows_short=sum(o.rows_short for o in outcomes),
        tiles_empty=sum(len(layout.tiles) - o.rows_shown for o in outcomes),
        relaxed_pages=sum(bool(o.relaxed) for o in outcomes),
        relaxations=dict(sorted(relaxations.items())),
        objective=mean([o.objective for o in outcomes]),
        hit=mean([float(o.metrics.hit) for o in outcomes]),
        carousel_ndcg=mean([o.metrics.carousel_ndcg for o in outcomes]),
        intra_row_diversity=mean([o.metrics.intra_row_diversity for o in outcomes]),
        genres_covered=mean([o.metrics.genres_covered for o in outcomes]),
        catalog_coverage=catalog_coverage(pages, catalogue),
        exposure_gini=exposure_gini(pages, catalogue),
        p50_ms=round(float(np.percentile(milliseconds, 50)), 3),
        p95_ms=round(float(np.percentile(milliseconds, 95)), 3),
        optimal_share=mean([o.status == "optimal" for o in outcomes]) if name == "ilp" else None,
    )


def format_scenarios(report: ScenarioReport) -> str:
    """The report as text: one table row per scenario and optimizer, then per scenario how the ILP and
    greedy pages compare and which rules each optimizer relaxed on how many pages."""
    widths = [max(len(c.label), 7) + 1 for c in SCENARIO_COLUMNS]
    name_width = max([len("scenario"), *(len(s.scenario) for s in report.scenarios)]) + 2
    lines = [
        f"{report.dataset} · {report.users} users · {len(report.scenarios)} scenarios · "
        f"{report.workers} {report.engine} workers · node limit {report.node_limit} · {report.seconds:.1f} s",
        f"{'scenario':<{name_width}}{'optimizer':<10}"
        + "".join(f"{c.label:>{w}}" for c, w in zip(SCENARIO_COLUMNS, widths, strict=True)),
    ]
    for scenario in report.scenarios:
        for result in scenario.optimizers:
            cells = "".join(
                f"{_cell(getattr(result, c.field), c.format):>{w}}"
                for c, w in zip(SCENARIO_COLUMNS, widths, strict=True)
            )
            lines.append(f"{scenario.scenario:<{name_width}}{result.optimizer:<10}{cells}")
    lines.append("")
    lines.append("filled: cards / card slots · short: rows below their tile's slots · empty: tiles with no row ·")
    lines.append("relaxed: pages relaxing any rule (counts over all pages; the rest are means per page)")
    for scenario in report.scenarios:
        settings = ", ".join(f"{k}={v:g}" for k, v in scenario.settings.items())
        lines.append("")
        lines.append(
            f"{scenario.scenario}: layout {scenario.layout}"
            + (f" with {settings}" if settings else "")
            + f" ({scenario.tiles} tiles, {scenario.card_slots} card slots) — {scenario.description}"
        )
        if scenario.greedy_breaks_ilp_keeps is not None:
            lines.append(
                f"  greedy breaks a rule the ILP keeps on {scenario.greedy_breaks_ilp_keeps} users, "
                f"the ILP one greedy keeps on {scenario.ilp_breaks_greedy_keeps}; "
                f"ILP objective below greedy's on {scenario.ilp_below_greedy} of {report.users} users, "
                f"{scenario.ilp_below_rule_keeping_greedy} of them where greedy was no further off any rule"
            )
        for result in scenario.optimizers:
            rules = ", ".join(f"{rule} {pages}" for rule, pages in result.relaxations.items())
            lines.append(f"  {result.optimizer} relaxed: {rules or 'nothing'}")
    return "\n".join(lines)


def _cell(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def load_scenarios(data_dir: Path, dataset: str) -> ScenarioReport | None:
    """The saved scenario report of ``dataset``, or None when there is none or it is of an older shape."""
    return load_typed_report(data_dir, dataset, "scenarios", ScenarioReport.from_dict)
