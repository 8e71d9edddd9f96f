"""Stage 4 of the pipeline: choose the page's rows and fill their cards.

``optimize(problem)`` solves the page program exactly: the Lagrangian decomposition (``decompose.py``)
proves most pages in milliseconds; the rest go to the same program in PuLP + HiGHS (``ilp.py``),
started from the decomposition's best page and stopped by a node count, never by the clock. The report
carries how far the greedy and MMR baselines fall short; when HiGHS is missing or fails, the best page
found so far is returned and the report says so.
"""

from __future__ import annotations

import time

from pagegen.errors import ConfigError
from pagegen.optimizer.baselines import greedy_page, mmr_page
from pagegen.optimizer.decompose import decompose
from pagegen.optimizer.ilp import SAFETY_SECONDS, build_page_problem, export_lp, solve_page_model
from pagegen.optimizer.page import (
    RELAXATION_ORDER,
    Page,
    PageItem,
    PageRow,
    Placement,
    Relaxation,
    SolverReport,
    assemble_page,
    best_page,
    format_page,
    page_objective,
    solver_line,
    unmet_constraints,
)
from pagegen.optimizer.problem import PageProblem, prepare_problem, row_depth
from pagegen.vocabulary import DEFAULT_OPTIMIZER, OPTIMIZERS

BASELINES = {"greedy": greedy_page, "mmr": mmr_page}
NODE_LIMIT = 2000  # branch-and-bound nodes for the pages the decomposition leaves unproven (a count, not a clock)
GAP = 0.005  # a page is optimal when no page can beat its objective by more than this share


def optimize(
    problem: PageProblem, optimizer: str = DEFAULT_OPTIMIZER, *, compare: bool = True, node_limit: int = NODE_LIMIT
) -> Page:
    """The page for ``problem``. With ``compare``, the ILP's report carries each baseline's objective."""
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    started = time.perf_counter()
    if optimizer != "ilp":
        placements = BASELINES[optimizer](problem)
        report = SolverReport(
            optimizer=optimizer,
            status="heuristic",
            objective=round(page_objective(problem, placements), 6),
            solve_seconds=time.perf_counter() - started,
            relaxations=unmet_constraints(problem, placements),
        )
        return assemble_page(problem, placements, report)

    baselines = (
        {name: build(problem) for name, build in BASELINES.items()} if compare else {"greedy": greedy_page(problem)}
    )
    fast = decompose(problem, best_page(problem, baselines.values()), gap=GAP)
    placements, bound, status, message = fast.placements, fast.bound, "optimal", ""
    build_seconds = 0.0
    if not fast.proven:
        try:
            model = build_page_problem(problem)
            exact = solve_page_model(model, start=fast.placements, node_limit=node_limit, gap=GAP)
        except ImportError as error:  # highspy missing: the page still renders, unproven
            status, message = "unproven", f"the HiGHS solver is not installed ({error}); best page found shown"
        else:
            placements, bound, status, build_seconds = (
                exact.placements,
                exact.best_bound,
                exact.status,
                model.build_seconds,
            )
            if status in ("error", "infeasible"):
                placements, bound = fast.placements, None
                message = f"the solver failed ({status}); best page found shown"
            elif status == "time_limit":
                message = (
                    f"stopped by the {SAFETY_SECONDS:.0f} s guard, not proven; the gap is the most any page could gain"
                )
            elif status == "optimal":
                message = "proven by HiGHS, started from the decomposition's best page"
            else:
                message = f"not proven within {node_limit} solver nodes; the gap is the most any page could gain"
    objective = page_objective(problem, placements)
    gap = None if bound is None else max(bound - objective, 0.0) / max(abs(objective), 1e-9)
    if fast.proven:
        message = f"proven by the decomposition in {fast.iterations} steps"
    report = SolverReport(
        optimizer="ilp",
        status=status,
        objective=round(objective, 6),
        best_bound=None if bound is None else round(bound, 6),
        gap=None if gap is None else round(gap, 6),
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - started - build_seconds,
        relaxations=unmet_constraints(problem, placements),
        message=message,
        baselines={
            name: {
                "objective": round(page_objective(problem, pages), 6),
                "shortfall": round(_shortfall(objective, page_objective(problem, pages)), 6),
            }
            for name, pages in baselines.items()
        },
    )
    return assemble_page(problem, placements, report)


def _shortfall(best: float, other: float) -> float:
    """How far ``other`` falls below ``best``, as a share of ``best``."""
    return (best - other) / abs(best) if best else 0.0


__all__ = [
    "GAP",
    "NODE_LIMIT",
    "OPTIMIZERS",
    "RELAXATION_ORDER",
    "Page",
    "PageItem",
    "PageProblem",
    "PageRow",
    "Placement",
    "Relaxation",
    "SolverReport",
    "export_lp",
    "format_page",
    "optimize",
    "prepare_problem",
    "row_depth",
    "solver_line",
]
