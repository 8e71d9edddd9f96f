"""Pages for every user, with each optimizer, measured by the page metrics.

Each user's page is built from their history up to their held-out last item (leave-last-out), so a
page "hits" when it shows what the user watched next. Users are split across worker processes (one
HiGHS thread each); every worker loads the dataset's saved models once.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pagegen.evaluation.workers import map_users
from pagegen.layout import Layout
from pagegen.metrics import catalog_coverage, exposure_gini, page_metrics
from pagegen.optimizer import NODE_LIMIT, OPTIMIZERS, Page, optimize

if TYPE_CHECKING:
    from pagegen.serving import PageService


def evaluate_pages(
    dataset: str,
    data_dir: Path,
    layout: Layout,
    *,
    optimizers: Sequence[str] = OPTIMIZERS,
    max_users: int | None = None,
    workers: int = 2,
    node_limit: int = NODE_LIMIT,
) -> dict[str, Any]:
    """Mean page metrics per optimizer, catalogue coverage and exposure Gini, plus the hit rate of the
    top-picks row alone stretched to the page's size (the bar the page must clear)."""
    from pagegen.serving import PageService

    service = PageService(dataset, data_dir)  # trains and saves missing models once, before the workers
    user_ids = [int(u) for u in service.user_ids()[:max_users]]
    started = time.perf_counter()
    results = map_users(_pages_for, (layout, tuple(optimizers), node_limit), user_ids, service=service, workers=workers)
    seconds = time.perf_counter() - started
    catalogue = service.experiment.serving.n_items
    summary: dict[str, Any] = {"dataset": dataset, "layout": layout.name, "users": len(user_ids), "seconds": seconds}
    for name in optimizers:
        pages = [result["pages"][name] for result in results]
        metrics = [result["metrics"][name] for result in results]
        summary[name] = {
            **{key: float(np.mean([m[key] for m in metrics])) for key in metrics[0]},
            "objective": float(np.mean([result["objectives"][name] for result in results])),
            "relaxed_pages": sum(bool(result["relaxed"][name]) for result in results),
            "catalog_coverage": catalog_coverage(pages, catalogue),
            "exposure_gini": exposure_gini(pages, catalogue),
        }
    summary["top_picks_alone"] = {"hit": float(np.mean([result["top_picks_hit"] for result in results]))}
    if "ilp" in optimizers and "greedy" in optimizers:
        differences = [result["objectives"]["ilp"] - result["objectives"]["greedy"] for result in results]
        summary["ilp_vs_greedy"] = {
            "users_ilp_at_least_greedy": sum(d >= -1e-6 for d in differences),
            "mean_objective_gain": float(np.mean(differences)),
            "statuses": dict(Counter(result["status"] for result in results)),
        }
    return summary


def _pages_for(
    service: PageService, context: tuple[Layout, tuple[str, ...], int], user_ids: list[int]
) -> list[dict[str, Any]]:
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
            {
                "pages": {name: page.item_ids for name, page in pages.items()},
                "metrics": {
                    name: dataclasses.asdict(page_metrics(page, held_out=held_out, item_share=share))
                    for name, page in pages.items()
                },
                "objectives": {name: page.report.objective for name, page in pages.items()},
                "relaxed": {name: [r.constraint for r in page.report.relaxations] for name, page in pages.items()},
                "status": pages["ilp"].report.status if "ilp" in pages else None,
                "top_picks_hit": held_out in top_picks,
            }
        )
    return results
