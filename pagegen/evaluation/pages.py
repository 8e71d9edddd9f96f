"""Pages for every user, with each optimizer, measured by the page metrics.

Each user's page is built from their history up to their held-out last item (leave-last-out), so a
page "hits" when it shows what the user watched next. Users are split across worker processes (one
HiGHS thread each); every worker loads the dataset's saved models once.
"""

from __future__ import annotations

import dataclasses
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
from pagegen.metrics import PageMetrics, catalog_coverage, exposure_gini, page_metrics
from pagegen.optimizer import NODE_LIMIT, OPTIMIZERS, Page, optimize

if TYPE_CHECKING:
    from pagegen.serving import PageService


PAGES_COLUMNS = (
    "objective",
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
    intra_row_diversity: float
    genres_covered: float
    novelty: float
    duplicates: float
    items: float
    objective: float
    relaxed_pages: int  # pages with at least one relaxed rule
    catalog_coverage: float
    exposure_gini: float


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
    top_picks_hit: float  # the top-picks row alone, as many items as the page: the bar the page must clear
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
        for result in self.optimizers:
            payload[result.optimizer] = {k: v for k, v in dataclasses.asdict(result).items() if k != "optimizer"}
        payload["top_picks_alone"] = {"hit": self.top_picks_hit}
        if self.ilp_vs_greedy is not None:
            payload["ilp_vs_greedy"] = dataclasses.asdict(self.ilp_vs_greedy)
        return payload

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PagesReport:
        """The report back from ``to_dict``'s JSON (a saved report); a missing or unknown figure raises."""
        versus = data.get("ilp_vs_greedy")
        return cls(
            dataset=data["dataset"],
            layout=data["layout"],
            users=data["users"],
            seconds=data["seconds"],
            optimizers=tuple(OptimizerPages(optimizer=name, **data[name]) for name in OPTIMIZERS if name in data),
            top_picks_hit=data["top_picks_alone"]["hit"],
            ilp_vs_greedy=IlpVersusGreedy(**versus) if versus is not None else None,
        )


@dataclass(frozen=True)
class _OptimizerPage:
    """One user's page by one optimizer: what the summary needs, small to pickle back from a worker."""

    item_ids: tuple[int, ...]
    metrics: PageMetrics
    objective: float
    relaxed: bool


@dataclass(frozen=True)
class _UserPages:
    pages: dict[str, _OptimizerPage]  # by optimizer
    ilp_status: str | None
    top_picks_hit: bool  # the top-picks row alone, as many items as the page, shows the held-out item


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
    """Mean page metrics per optimizer, catalogue coverage and exposure Gini, plus the hit rate of the
    top-picks row alone stretched to the page's size (the bar the page must clear). The ``service``'s
    models are saved before the workers load them; ``progress``: a bar over the users, on stderr."""
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
    summaries = []
    for name in optimizers:
        pages = [result.pages[name] for result in results]
        metrics = [dataclasses.asdict(page.metrics) for page in pages]
        summaries.append(
            OptimizerPages(
                optimizer=name,
                **{key: float(np.mean([m[key] for m in metrics])) for key in metrics[0]},
                objective=float(np.mean([page.objective for page in pages])),
                relaxed_pages=sum(page.relaxed for page in pages),
                catalog_coverage=catalog_coverage([page.item_ids for page in pages], catalogue),
                exposure_gini=exposure_gini([page.item_ids for page in pages], catalogue),
            )
        )
    versus = None
    if "ilp" in optimizers and "greedy" in optimizers:
        differences = [result.pages["ilp"].objective - result.pages["greedy"].objective for result in results]
        versus = IlpVersusGreedy(
            users_ilp_at_least_greedy=sum(d >= -1e-6 for d in differences),
            mean_objective_gain=float(np.mean(differences)),
            statuses=dict(Counter(result.ilp_status for result in results)),
        )
    return PagesReport(
        dataset=service.name,
        layout=layout.name,
        users=len(user_ids),
        seconds=seconds,
        optimizers=tuple(summaries),
        top_picks_hit=float(np.mean([result.top_picks_hit for result in results])),
        ilp_vs_greedy=versus,
    )


def format_pages(report: PagesReport) -> str:
    """The report as text: one table row per optimizer, the top-picks bar, and the ILP against greedy."""
    widths = [max(len(c) + 2, 10) for c in PAGES_COLUMNS]
    lines = [
        f"{report.dataset} · {report.layout} · {report.users} users · {report.seconds:.1f} s",
        f"{'optimizer':<10}" + "".join(f"{c:>{w}}" for c, w in zip(PAGES_COLUMNS, widths, strict=True)),
    ]
    for result in report.optimizers:
        cells = "".join(f"{getattr(result, c):>{w}.4f}" for c, w in zip(PAGES_COLUMNS, widths, strict=True))
        lines.append(f"{result.optimizer:<10}{cells}")
    lines.append(f"top picks alone, as many items: hit {report.top_picks_hit:.4f}")
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
        size = max(len(page.item_ids) for page in pages.values())
        top_picks = service.builder.top_picks(service.history(user_id), size)
        results.append(
            _UserPages(
                pages={
                    name: _OptimizerPage(
                        item_ids=tuple(page.item_ids),
                        metrics=page_metrics(page, held_out=held_out, item_share=share),
                        objective=page.report.objective,
                        relaxed=bool(page.report.relaxations),
                    )
                    for name, page in pages.items()
                },
                ilp_status=pages["ilp"].report.status if "ilp" in pages else None,
                top_picks_hit=held_out in top_picks,
            )
        )
    return results
