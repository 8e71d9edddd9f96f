"""Stage 4 of the pipeline: choose the page's rows and fill their cards.

``optimize(problem)`` solves the page program: the Lagrangian decomposition (``decompose.py``) finds
the best page it can and a bound no page can beat; a page within ``GAP`` of its bound is proven
optimal, one further off is shown as "bounded" with its gap (on the calibrated objective the bound is
1–3 % loose on most default pages, and a MIP took seconds a page to add 0.02 %). Pages for which the
decomposition finds no page keeping every rule it can go to the same program in PuLP + HiGHS
(``ilp.py``), started from its best page and stopped by counts of solver nodes and rounds, never by the
clock, so no page depends on the machine's speed. The report carries how far the greedy and MMR
baselines fall short; when HiGHS is missing or fails, the best page found so far is returned and the
report says so.
"""

from __future__ import annotations

import time

from pagegen.errors import ConfigError
from pagegen.optimizer.baselines import greedy_page, mmr_page
from pagegen.optimizer.decompose import decompose
from pagegen.optimizer.ilp import NODE_LIMIT, ROUND_LIMIT, build_page_problem, export_lp, solve_page_model
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
    better_rows_higher,
    format_page,
    page_objective,
    plain_solver_line,
    solver_line,
    unmet_constraints,
)
from pagegen.optimizer.problem import PageProblem, prepare_problem, row_depth
from pagegen.vocabulary import DEFAULT_OPTIMIZER, OPTIMIZERS

BASELINES = {"greedy": greedy_page, "mmr": mmr_page}
GAP = 0.005  # a page is optimal when no page can beat its objective by more than this share


def optimize(
    problem: PageProblem,
    optimizer: str = DEFAULT_OPTIMIZER,
    *,
    compare: bool = True,
    node_limit: int = NODE_LIMIT,
    round_limit: int = ROUND_LIMIT,
) -> Page:
    """The page for ``problem``. With ``compare``, the ILP's report carries each baseline's objective
    (the page is the same either way).
    The MIP stops after ``node_limit`` nodes or ``round_limit`` rounds (``ilp.ROUND_LIMIT``)."""
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
    # Started from greedy's page whether or not the baselines are compared, so the dashboard (which shows no
    # comparison and skips MMR's ~30 ms) and the CLI give the same page for the same inputs.
    fast = decompose(problem, baselines["greedy"], gap=GAP)
    placements, bound, status, message = fast.placements, fast.bound, "optimal", ""
    build_seconds = 0.0
    if not fast.proven and fast.bound is not None:
        # A page that keeps every rule it can, with a bound: what a MIP could add was measured at 0.02 %
        # of the objective on ml-100k's default pages, for seconds a page; the page says how far off it may be.
        status = "bounded"
        message = f"best page found in {fast.iterations} steps; no page can beat it by more than the gap"
    elif not fast.proven:
        try:
            model = build_page_problem(problem)
            exact = solve_page_model(
                model, start=fast.placements, node_limit=node_limit, round_limit=round_limit, gap=GAP
            )
        except ImportError as error:  # highspy missing: the page still renders, unproven
            status, message = "unproven", f"the HiGHS solver is not installed ({error}); best page found shown"
            placements = best_page(problem, [fast.placements, *baselines.values()])
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
            elif status == "optimal":
                message = "proven by HiGHS, started from the decomposition's best page"
            else:
                message = (
                    f"not proven within {node_limit} solver nodes / {round_limit} solver rounds; "
                    "the gap is the most any page could gain"
                )
    # Each row's cards best first, and the better of two same-size unpinned rows higher: the same rows
    # and cards, so the same rules kept, and by the rearrangement inequality never a lower objective.
    placements = tuple(better_rows_higher(problem, placements))
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
    "ROUND_LIMIT",
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
    "plain_solver_line",
    "prepare_problem",
    "row_depth",
    "solver_line",
]
