"""Stage 4 of the pipeline: choose the page's rows and fill their cards.

``optimize(problem)`` solves the ILP (PuLP + HiGHS in process) and reports how far the greedy and MMR
baselines fall short of it on the same objective; when the solver is missing, fails or finds no page in
time, the greedy page is returned and the report says so.
"""

from __future__ import annotations

import time

from pagegen.errors import ConfigError
from pagegen.optimizer.baselines import greedy_page, mmr_page
from pagegen.optimizer.ilp import build_page_problem, solve_page_model
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
    page_objective,
    unmet_constraints,
)
from pagegen.optimizer.problem import PageProblem, prepare_problem

OPTIMIZERS = ("ilp", "greedy", "mmr")
BASELINES = {"greedy": greedy_page, "mmr": mmr_page}
DEFAULT_TIME_LIMIT = 0.5  # seconds: a slider's answer stays well under a second; the report gives the gap


def optimize(
    problem: PageProblem, optimizer: str = "ilp", *, time_limit: float = DEFAULT_TIME_LIMIT, compare: bool = True
) -> Page:
    """The page for ``problem``. With ``compare``, the ILP's report carries each baseline's objective."""
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if optimizer != "ilp":
        started = time.perf_counter()
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
    try:
        model = build_page_problem(problem)
        result = solve_page_model(model, start=best_page(problem, baselines.values()), time_limit=time_limit)
    except ImportError as error:  # highspy missing: the page still renders, from the greedy builder
        return _fallback(problem, f"the HiGHS solver is not installed ({error}); greedy page shown")
    if not result.placements and result.status != "optimal":
        return _fallback(problem, f"the solver found no page ({result.status}); greedy page shown")
    objective = page_objective(problem, result.placements)
    report = SolverReport(
        optimizer="ilp",
        status=result.status,
        objective=round(objective, 6),
        best_bound=None if result.best_bound is None else round(result.best_bound, 6),
        gap=None if result.gap is None else round(result.gap, 6),
        build_seconds=result.build_seconds,
        solve_seconds=result.solve_seconds,
        relaxations=unmet_constraints(problem, result.placements),
        baselines={
            name: {
                "objective": round(page_objective(problem, placements), 6),
                "shortfall": round(_shortfall(objective, page_objective(problem, placements)), 6),
            }
            for name, placements in baselines.items()
        },
    )
    return assemble_page(problem, result.placements, report)


def _shortfall(best: float, other: float) -> float:
    """How far ``other`` falls below ``best``, as a share of ``best``."""
    return (best - other) / abs(best) if best else 0.0


def _fallback(problem: PageProblem, message: str) -> Page:
    placements = greedy_page(problem)
    report = SolverReport(
        optimizer="greedy",
        status="fallback",
        objective=round(page_objective(problem, placements), 6),
        relaxations=unmet_constraints(problem, placements),
        message=message,
    )
    return assemble_page(problem, placements, report)


__all__ = [
    "DEFAULT_TIME_LIMIT",
    "OPTIMIZERS",
    "RELAXATION_ORDER",
    "Page",
    "PageItem",
    "PageProblem",
    "PageRow",
    "Placement",
    "Relaxation",
    "SolverReport",
    "optimize",
    "prepare_problem",
]
