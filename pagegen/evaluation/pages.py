"""Pages for every user, with each optimizer, measured by the page metrics.

Each user's page is built from their history up to their held-out last item (leave-last-out), so a
page "hits" when it shows what the user watched next, and its carousel NDCG is the browsing model's
chance that the user looks at that card. Beside the optimizers stands the relevance-only page: the
layout's cards filled with the user's most probable unseen items, most probable where examination is
highest, no rule kept: what each rule costs is its figures minus the ILP's. Means carry bootstrap 95 %
intervals over users. Users are split across worker processes (one HiGHS thread each); every worker
loads the dataset's saved models once.
"""

from __future__ import annotations

import dataclasses
import itertools
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
from pagegen.layout import Layout
from pagegen.layout.browsing import examination, tile_examination
from pagegen.metrics import PageMetrics, bootstrap_interval, catalog_coverage, exposure_gini, page_metrics
from pagegen.optimizer import NODE_LIMIT, OPTIMIZERS, Page, PageItem, PageRow, SolverReport, optimize
from pagegen.ranking import percentiles
from pagegen.rows import RowReason

if TYPE_CHECKING:
    from pagegen.serving import PageService


RELEVANCE_ONLY = "relevance_only"  # the page of the user's most probable items, no rule kept
INTERVALS = ("hit", "carousel_ndcg", "expected_good_picks")  # the figures reported with a bootstrap interval
RESAMPLES = 1000
RELIABILITY_BINS = 10
PAGES_COLUMNS = (
    "objective",
    "expected_good_picks",
    "hit",
    "carousel_ndcg",
    "attention_relevance",
    "intra_row_diversity",
    "genres_covered",
    "novelty",
    "catalog_coverage",
    "exposure_gini",
    "relaxed_pages",
)  # the text table's columns, in order


@dataclass(frozen=True)
class OptimizerPages:
    """One optimizer's pages over all users: page metrics are means per page, coverage and Gini over
    all its pages."""

    optimizer: str
    attention_relevance: float
    hit: float
    carousel_ndcg: float
    expected_good_picks: float
    intra_row_diversity: float
    genres_covered: float
    novelty: float
    duplicates: float
    items: float
    objective: float
    relaxed_pages: int  # pages with at least one relaxed rule
    catalog_coverage: float
    exposure_gini: float
    intervals: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # INTERVALS' 95 % bounds
    rows_out_of_order: float = 0.0  # share of pages where a free tile holds a better row than the free tile above
    best_row_on_top: float = 0.0  # share of pages whose top tile holds the page's most valuable row
    # Users in RELIABILITY_BINS groups by predicted expected good picks: (mean predicted, mean observed
    # carousel NDCG, users) per group: the reliability chart of the page's calibration.
    reliability: tuple[tuple[float, float, int], ...] = ()


@dataclass(frozen=True)
class IlpVersusGreedy:
    users_ilp_at_least_greedy: int
    mean_objective_gain: float
    statuses: dict[str, int]  # the ILP's solver statuses → users


@dataclass(frozen=True)
class PagesReport:
    dataset: str
    layout: str
    users: int
    seconds: float
    optimizers: tuple[OptimizerPages, ...]
    relevance_only: OptimizerPages  # the user's most probable items on the layout's cards, no rule kept
    ilp_vs_greedy: IlpVersusGreedy | None  # when both ran

    def result(self, optimizer: str) -> OptimizerPages:
        for result in self.optimizers:
            if result.optimizer == optimizer:
                return result
        raise KeyError(f"no {optimizer} results here, only {', '.join(r.optimizer for r in self.optimizers)}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the CLI prints and Insights reads: each optimizer's figures under its name."""
        payload: dict[str, Any] = {
            "dataset": self.dataset,
            "layout": self.layout,
            "users": self.users,
            "seconds": self.seconds,
        }
        for result in (*self.optimizers, self.relevance_only):
            payload[result.optimizer] = {k: v for k, v in dataclasses.asdict(result).items() if k != "optimizer"}
            payload[result.optimizer]["intervals"] = {k: list(v) for k, v in result.intervals.items()}
            payload[result.optimizer]["reliability"] = [list(group) for group in result.reliability]
        if "ilp" in payload:
            payload["price_of_rules"] = self.price_of_rules()
        if self.ilp_vs_greedy is not None:
            payload["ilp_vs_greedy"] = dataclasses.asdict(self.ilp_vs_greedy)
        return payload

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PagesReport:
        """The report back from ``to_dict``'s JSON (a saved report); a missing or unknown figure raises."""
        versus = data.get("ilp_vs_greedy")

        def result(name: str) -> OptimizerPages:
            figures = dict(data[name])
            figures["intervals"] = {k: tuple(v) for k, v in figures.get("intervals", {}).items()}
            figures["reliability"] = tuple(tuple(group) for group in figures.get("reliability", ()))
            return OptimizerPages(optimizer=name, **figures)

        return cls(
            dataset=data["dataset"],
            layout=data["layout"],
            users=data["users"],
            seconds=data["seconds"],
            optimizers=tuple(result(name) for name in OPTIMIZERS if name in data),
            relevance_only=result(RELEVANCE_ONLY),
            ilp_vs_greedy=IlpVersusGreedy(**versus) if versus is not None else None,
        )

    def price_of_rules(self) -> dict[str, float]:
        """What the page's rules cost together: the relevance-only page's figures minus the ILP page's."""
        ilp, free = self.result("ilp"), self.relevance_only
        return {key: round(getattr(free, key) - getattr(ilp, key), 6) for key in INTERVALS}


@dataclass(frozen=True)
class _OptimizerPage:
    """One user's page by one optimizer: what the summary needs, small to pickle back from a worker."""

    item_ids: tuple[int, ...]
    metrics: PageMetrics
    objective: float
    relaxed: bool
    out_of_order: bool  # a free tile holds a better row than the free tile above it
    best_on_top: bool  # the top tile holds the page's most valuable row


@dataclass(frozen=True)
class _UserPages:
    pages: dict[str, _OptimizerPage]  # by optimizer, and the relevance-only page
    ilp_status: str | None


def evaluate_pages(
    service: PageService,
    layout: Layout,
    *,
    optimizers: Sequence[str] = OPTIMIZERS,
    max_users: int | None = None,
    engine: EngineChoice = TWO_LOCAL_WORKERS,
    node_limit: int = NODE_LIMIT,
    progress: bool = False,
) -> PagesReport:
    """Mean page metrics per optimizer and of the relevance-only page, with bootstrap intervals,
    catalogue coverage and exposure Gini. The ``service``'s models are saved before the workers load
    them; ``progress``: a bar over the users, on stderr."""
    user_ids = [int(u) for u in service.user_ids()[:max_users]]
    started = time.perf_counter()
    results = map_users(
        _pages_for,
        (layout, tuple(optimizers), node_limit),
        user_ids,
        service=service,
        engine=engine,
        progress=progress,
        desc="pages",
    )
    seconds = time.perf_counter() - started
    catalogue = service.experiment.serving.n_items
    summaries = {
        name: _summary(name, [result.pages[name] for result in results], catalogue) for name in results[0].pages
    }
    versus = None
    if "ilp" in optimizers and "greedy" in optimizers:
        differences = [result.pages["ilp"].objective - result.pages["greedy"].objective for result in results]
        versus = IlpVersusGreedy(
            users_ilp_at_least_greedy=sum(d >= -1e-9 for d in differences),
            mean_objective_gain=float(np.mean(differences)),
            statuses=dict(Counter(result.ilp_status for result in results)),
        )
    return PagesReport(
        dataset=service.name,
        layout=layout.name,
        users=len(user_ids),
        seconds=seconds,
        optimizers=tuple(summaries[name] for name in optimizers),
        relevance_only=summaries[RELEVANCE_ONLY],
        ilp_vs_greedy=versus,
    )


def _summary(name: str, pages: Sequence[_OptimizerPage], catalogue: int) -> OptimizerPages:
    """One optimizer's pages summed up: means per page, intervals, coverage and Gini over all pages."""
    metrics = [dataclasses.asdict(page.metrics) for page in pages]
    return OptimizerPages(
        optimizer=name,
        **{key: float(np.mean([m[key] for m in metrics])) for key in metrics[0]},
        objective=float(np.mean([page.objective for page in pages])),
        relaxed_pages=sum(page.relaxed for page in pages),
        catalog_coverage=catalog_coverage([page.item_ids for page in pages], catalogue),
        exposure_gini=exposure_gini([page.item_ids for page in pages], catalogue),
        intervals={key: bootstrap_interval([m[key] for m in metrics], resamples=RESAMPLES) for key in INTERVALS},
        rows_out_of_order=float(np.mean([page.out_of_order for page in pages])),
        best_row_on_top=float(np.mean([page.best_on_top for page in pages])),
        reliability=reliability(
            [page.metrics.expected_good_picks for page in pages], [page.metrics.carousel_ndcg for page in pages]
        ),
    )


def reliability(
    predicted: Sequence[float], observed: Sequence[float], bins: int = RELIABILITY_BINS
) -> tuple[tuple[float, float, int], ...]:
    """Users sorted by what their page predicts, in ``bins`` groups of equal size: each group's mean
    predicted and mean observed figure, and its size (a calibrated page lies on the diagonal)."""
    order = np.argsort(np.asarray(predicted), kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
    return tuple(
        (round(float(np.mean(np.asarray(predicted)[g])), 6), round(float(np.mean(np.asarray(observed)[g])), 6), len(g))
        for g in groups
    )


def format_pages(report: PagesReport) -> str:
    """The report as text: one table row per optimizer and the relevance-only page, the intervals, what
    the rules cost, how rows are ordered, and the ILP against greedy."""
    widths = [max(len(c) + 2, 10) for c in PAGES_COLUMNS]
    lines = [
        f"{report.dataset} · {report.layout} · {report.users} users · {report.seconds:.1f} s",
        f"{'optimizer':<15}" + "".join(f"{c:>{w}}" for c, w in zip(PAGES_COLUMNS, widths, strict=True)),
    ]
    results = (*report.optimizers, report.relevance_only)
    for result in results:
        cells = "".join(f"{getattr(result, c):>{w}.4f}" for c, w in zip(PAGES_COLUMNS, widths, strict=True))
        lines.append(f"{result.optimizer:<15}{cells}")
    lines.append("95 % intervals (bootstrap over users):")
    for result in results:
        bounds = ", ".join(f"{k} {lo:.4f}–{hi:.4f}" for k, (lo, hi) in result.intervals.items())
        lines.append(f"  {result.optimizer:<15}{bounds}")
        lines.append(
            f"  {'':<15}rows out of order on {result.rows_out_of_order:.1%} of pages; "
            f"best row on top on {result.best_row_on_top:.1%}"
        )
    if any(r.optimizer == "ilp" for r in report.optimizers):
        price = ", ".join(f"{k} {v:+.4f}" for k, v in report.price_of_rules().items())
        lines.append(f"what the rules cost (relevance-only minus ILP): {price}")
    if report.ilp_vs_greedy is not None:
        versus = report.ilp_vs_greedy
        lines.append(
            f"ILP ≥ greedy on {versus.users_ilp_at_least_greedy} of {report.users} users, "
            f"mean objective gain {versus.mean_objective_gain:.4f}; ILP statuses {versus.statuses}"
        )
    return "\n".join(lines)


def load_pages(data_dir: Path, dataset: str) -> PagesReport | None:
    """The saved page evaluation of ``dataset``, or None when there is none or it is of another shape."""
    return load_typed_report(data_dir, dataset, "pages", PagesReport.from_dict)


def _pages_for(
    service: PageService, context: tuple[Layout, tuple[str, ...], int], user_ids: list[int]
) -> list[_UserPages]:
    layout, optimizers, node_limit = context
    share = service.item_share
    results = []
    for user_id in user_ids:
        problem = service.problem(user_id, layout)
        held_out = service.experiment.held_out_item(user_id)
        pages: dict[str, Page] = {
            name: optimize(problem, name, node_limit=node_limit, compare=False) for name in optimizers
        }
        pages[RELEVANCE_ONLY] = relevance_only_page(service, user_id, layout)
        results.append(
            _UserPages(
                pages={
                    name: _OptimizerPage(
                        item_ids=tuple(page.item_ids),
                        metrics=page_metrics(page, held_out=held_out, item_share=share),
                        objective=page.report.objective,
                        relaxed=bool(page.report.relaxations),
                        out_of_order=rows_out_of_order(page, layout),
                        best_on_top=best_row_on_top(page),
                    )
                    for name, page in pages.items()
                },
                ilp_status=pages["ilp"].report.status if "ilp" in pages else None,
            )
        )
    return results


def relevance_only_page(service: PageService, user_id: int, layout: Layout) -> Page:
    """The layout's cards filled with the user's most probable unseen items, no rule kept: the most
    probable where the browsing model says a person looks most (the most any page can hold)."""
    history = service.history(user_id)
    probability = service.builder.probabilities(history)
    relevance = percentiles(probability)  # the percentile the other pages' cards carry
    cards = sorted(
        ((t, s) for t, tile in enumerate(layout.tiles) for s in range(tile.slots)),
        key=lambda card: (-examination(layout, *card), card),
    )
    unseen = np.flatnonzero(probability > 0)
    best = unseen[np.lexsort((unseen, -probability[unseen]))][: len(cards)]
    item_ids = [int(i) for i in service.experiment.serving.item_ids[best]]
    facts = service.builder.facts(item_ids, probability)
    placed: dict[int, list[tuple[int, int]]] = {}
    for (t, s), item in zip(cards, item_ids, strict=False):
        placed.setdefault(t, []).append((s, item))
    rows = []
    for t in sorted(placed):
        tile = layout.tiles[t]
        items = tuple(
            PageItem(
                item_id=item,
                title=facts[item].title,
                year=facts[item].year,
                genres=facts[item].genres,
                score=facts[item].probability,
                relevance=round(float(relevance[service.experiment.serving.item_index(item)]), 6),
                popularity=facts[item].popularity,
                popularity_bias=0.0,
                attention=examination(layout, t, s),
                is_new=facts[item].is_new,
                probability=facts[item].probability,
            )
            for s, item in sorted(placed[t])
        )
        reason = RowReason("top_picks", "ranker")
        rows.append(
            PageRow(
                t, tile.kind, tile.slots, tile.columns, f"relevance:{t}", "", reason, items, tile_examination(layout, t)
            )
        )
    objective = sum(item.attention * item.score for row in rows for item in row.items)
    report = SolverReport(optimizer=RELEVANCE_ONLY, status="heuristic", objective=round(objective, 6))
    return Page(user_id=user_id, layout=layout.name, rows=tuple(rows), report=report)


def shown_row_value(row: PageRow) -> float:
    """A shown row's worth along its tile (attention down the page aside): Σ card examination × value."""
    return sum(item.attention * item.score for item in row.items) / row.attention if row.attention else 0.0


def rows_out_of_order(page: Page, layout: Layout) -> bool:
    """Whether a free (unpinned) tile holds a row worth more than the free tile of the same size above it."""
    free = [row for row in page.rows if layout.tiles[row.tile].pinned is None] if page.rows else []
    return any(
        upper.slots == lower.slots and shown_row_value(lower) > shown_row_value(upper) + 1e-12
        for upper, lower in itertools.pairwise(free)
    )


def best_row_on_top(page: Page) -> bool:
    """Whether the page's top row is its most valuable one (ties count as on top)."""
    values = [shown_row_value(row) for row in page.rows]
    return bool(values) and values[0] >= max(values) - 1e-12
