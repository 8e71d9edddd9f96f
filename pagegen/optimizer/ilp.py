"""The page as an integer linear program: PuLP builds it, HiGHS solves it in process.

Variables
- ``place[r,t]``: candidate row r fills tile t.
- ``card[r,c,k,s]``: the k-th candidate of row r sits on card s of the row when the row is shown in a
  tile of size class c (tiles of one size share contents). Only s ≤ k is possible: at most k better
  candidates come before it. Each row's cards form an assignment problem, whose LP relaxation is
  integral, so the solver's branching is spent on which row goes where.
- ``gain[r,t]``: the attention-free value of row r's cards when it fills tile t, else 0 (``value[r,c]``
  when placed, bounded by ``best[r,c] · place[r,t]``), so the objective Σ attention_t · gain[r,t] stays
  linear.
- ``slack_*``: how far each page-level rule is relaxed, charged in the objective so that rules give way
  in the documented order (cheapest first): new items, genre coverage, required row types, pinned rows.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pulp

from pagegen.optimizer.page import (
    RELAXATION_CHARGE,
    Placement,
    best_page,
    page_objective,
    relaxation_charge,
    unmet_constraints,
)
from pagegen.optimizer.problem import PageProblem


@dataclass
class PageModel:
    """The built program and its variables, named by index so the solution can be read back."""

    problem: PageProblem
    lp: pulp.LpProblem
    place: dict[tuple[int, int], pulp.LpVariable]
    card: dict[tuple[int, int, int, int], pulp.LpVariable]
    size_class: dict[int, int]  # tile → size class (its slot count)
    covers: dict[str, pulp.LpVariable]  # genre → shown on the page (only with a genre minimum)
    build_seconds: float


@dataclass(frozen=True)
class IlpResult:
    status: str  # optimal, time_limit, infeasible or error
    placements: tuple[Placement, ...]
    best_bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float


def build_page_problem(problem: PageProblem) -> PageModel:
    """The ILP of ``problem``: pure construction, nothing solved."""
    started = time.perf_counter()
    constraints, rows, tiles = problem.constraints, problem.rows, problem.tiles
    lp = pulp.LpProblem("page", pulp.LpMaximize)
    size_class = {t: tile.slots for t, tile in enumerate(tiles)}
    classes = sorted(set(size_class.values()))
    tiles_of = {c: [t for t in range(len(tiles)) if size_class[t] == c] for c in classes}

    place = {
        (r, t): lp.add_variable(f"place_{r}_{t}", cat=pulp.LpBinary)
        for r, row in enumerate(rows)
        for t, tile in enumerate(tiles)
        if tile.pinned is None or tile.pinned == row.reason.row_type
    }
    card = {
        (r, c, k, s): lp.add_variable(f"card_{r}_{c}_{k}_{s}", cat=pulp.LpBinary)
        for r, row in enumerate(rows)
        for c in classes
        for k in range(min(len(row.items), problem.candidate_limit(c)))
        for s in range(min(k + 1, c))
        if any((r, t) in place for t in tiles_of[c])
    }
    shown = {
        (r, c): pulp.lpSum(place[r, t] for t in tiles_of[c] if (r, t) in place)
        for r in range(len(rows))
        for c in classes
    }
    cards_of: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (row, class) → (k, s)
    for r, c, k, s in card:
        cards_of[r, c].append((k, s))
    value = {
        key: pulp.LpAffineExpression(
            [(card[(*key, k, s)], problem.slot_attention(s) * rows[key[0]].scores[k]) for k, s in cards]
        )
        for key, cards in cards_of.items()
    }
    best = {
        (r, c): sum(
            problem.slot_attention(s) * score for s, score in enumerate(sorted(rows[r].scores, reverse=True)[:c])
        )
        for r, c in cards_of
    }
    gain = {(r, t): lp.add_variable(f"gain_{r}_{t}", lowBound=0) for r, t in place}
    covers: dict[str, pulp.LpVariable] = {}
    slack = {
        name: lp.add_variable(f"slack_{name}", lowBound=0)
        for name in ("min_new_items", "min_page_genres")
        if getattr(constraints, name) > 0
    }

    # Each tile shows at most one row; each row fills at most one tile.
    for t in range(len(tiles)):
        lp += pulp.lpSum(place[r, t] for r in range(len(rows)) if (r, t) in place) <= 1, f"one_row_in_tile_{t}"
    for r in range(len(rows)):
        lp += pulp.lpSum(place[r, t] for t in range(len(tiles)) if (r, t) in place) <= 1, f"row_used_once_{r}"

    # A shown row fills its cards from the left, one item each, each candidate at most once, and at
    # least half the tile.
    for (r, c), cards in cards_of.items():
        on_card = [pulp.lpSum(card[r, c, k, s] for k, slot in cards if slot == s) for s in range(c)]
        lp += on_card[0] <= shown[r, c], f"card_holds_one_{r}_{c}_0"
        for s in range(1, c):
            lp += on_card[s] <= on_card[s - 1], f"cards_from_the_left_{r}_{c}_{s}"
        for k in {k for k, _ in cards}:
            lp += (
                pulp.lpSum(card[r, c, k, s] for kk, s in cards if kk == k) <= shown[r, c],
                f"candidate_once_{r}_{c}_{k}",
            )
        lp += (
            pulp.lpSum(card[r, c, k, s] for k, s in cards) >= problem.min_fill(rows[r], c) * shown[r, c],
            (f"row_filled_{r}_{c}"),
        )

    # Per-row diversity: no genre (but the row's own theme) takes more than max_genre_share of the cards.
    for (r, c), cards in cards_of.items():
        row, cap = rows[r], problem.genre_cap(rows[r], c)
        for genre in sorted(problem.capped_genres(row)):
            with_genre = [card[r, c, k, s] for k, s in cards if genre in problem.facts[row.items[k]].genres]
            if len({k for k, _ in cards if genre in problem.facts[row.items[k]].genres}) > cap:
                lp += pulp.lpSum(with_genre) <= cap, f"genre_share_{r}_{c}_{genre}"

    # No item twice on the page (hard), or each repeat charged dedup_penalty (soft).
    appearances: dict[int, list[pulp.LpVariable]] = defaultdict(list)
    for (r, _c, k, _s), variable in card.items():
        appearances[rows[r].items[k]].append(variable)
    repeats = []
    for item, variables in sorted(appearances.items()):
        if len(variables) < 2:
            continue
        if constraints.dedup == "hard":
            lp += pulp.lpSum(variables) <= 1, f"item_once_{item}"
        else:
            repeat = lp.add_variable(f"repeat_{item}", lowBound=0)
            lp += repeat >= pulp.lpSum(variables) - 1, f"repeat_count_{item}"
            repeats.append(repeat)

    # A row's gain in a tile is its card value if it is placed there, else nothing.
    for (r, t), variable in gain.items():
        c = size_class[t]
        lp += variable <= value[r, c], f"gain_is_value_{r}_{t}"
        lp += variable <= best[r, c] * place[r, t], f"gain_needs_place_{r}_{t}"
    for (r, c), row_value in value.items():
        lp += pulp.lpSum(gain[r, t] for t in tiles_of[c] if (r, t) in gain) <= row_value, f"gain_once_{r}_{c}"

    # Symmetry: of two unpinned tiles of one size, the higher one holds the better row (swapping them
    # changes nothing else), so the solver need not try both orders.
    free = [t for t, tile in enumerate(tiles) if tile.pinned is None]
    for upper, lower in itertools.pairwise(free):
        if size_class[upper] == size_class[lower]:
            lp += (
                pulp.lpSum(gain[r, upper] for r in range(len(rows)) if (r, upper) in gain)
                >= pulp.lpSum(gain[r, lower] for r in range(len(rows)) if (r, lower) in gain),
                f"better_row_higher_{upper}_{lower}",
            )

    # Row types: at most max_rows_per_type each; required types at least once; pinned tiles filled.
    by_type: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (r, _t), variable in place.items():
        by_type[rows[r].reason.row_type].append(variable)
    for row_type, variables in sorted(by_type.items()):
        if sum(row.reason.row_type == row_type for row in rows) > constraints.max_rows_per_type:
            lp += pulp.lpSum(variables) <= constraints.max_rows_per_type, f"rows_per_type_{row_type}"
    required_slacks = []
    for row_type in constraints.required_row_types:
        if by_type.get(row_type):
            missing = lp.add_variable(f"slack_required_{row_type}", lowBound=0, upBound=1)
            lp += pulp.lpSum(by_type[row_type]) + missing >= 1, f"required_{row_type}"
            required_slacks.append(missing)
    pinned_slacks = []
    for t, tile in enumerate(tiles):
        candidates = [place[r, t] for r in range(len(rows)) if (r, t) in place]
        if tile.pinned is not None and candidates:
            missing = lp.add_variable(f"slack_pinned_{t}", lowBound=0, upBound=1)
            lp += pulp.lpSum(candidates) + missing >= 1, f"pinned_{t}"
            pinned_slacks.append(missing)

    # Page coverage: at least min_new_items new items and min_page_genres distinct genres.
    if "min_new_items" in slack:
        new_cards = [v for (r, c, k, s), v in card.items() if problem.facts[rows[r].items[k]].is_new]
        lp += pulp.lpSum(new_cards) + slack["min_new_items"] >= constraints.min_new_items, "min_new_items"
    if "min_page_genres" in slack:
        for genre in sorted({g for facts in problem.facts.values() for g in facts.genres}):
            cards_with = [v for (r, c, k, s), v in card.items() if genre in problem.facts[rows[r].items[k]].genres]
            if cards_with:
                covers[genre] = lp.add_variable(f"covers_{genre}", cat=pulp.LpBinary)
                lp += covers[genre] <= pulp.lpSum(cards_with), f"covers_{genre}"
        lp += pulp.lpSum(covers.values()) + slack["min_page_genres"] >= constraints.min_page_genres, "min_page_genres"

    lp += (
        pulp.lpSum(problem.tile_attention(t) * variable for (r, t), variable in gain.items())
        - constraints.dedup_penalty * pulp.lpSum(repeats)
        - pulp.lpSum(RELAXATION_CHARGE[name] * variable for name, variable in slack.items())
        - RELAXATION_CHARGE["required_row_types"] * pulp.lpSum(required_slacks)
        - RELAXATION_CHARGE["pinned"] * pulp.lpSum(pinned_slacks)
    )
    return PageModel(problem, lp, place, card, size_class, covers, time.perf_counter() - started)


def solve_page_model(
    model: PageModel, *, start: Sequence[Placement] = (), time_limit: float = 1.0, gap: float = 0.005
) -> IlpResult:
    """Solve with HiGHS in process, single-threaded (small programs solve fastest that way).

    Three steps, each cheap, and the later ones only when needed:
    1. the LP relaxation, whose value bounds every page from above (it is tight here: the cards of a
       row form an assignment problem);
    2. its rounding: each tile, top first, takes the unused row the LP placed there most, and with the
       rows fixed the program chooses the cards. The better of that page and ``start`` (a baseline's
       page) is the incumbent; when it is within ``gap`` of the bound, it is returned as optimal;
    3. otherwise the full program, started from the incumbent, for the rest of ``time_limit``.
    The HiGHS status is read directly, since PuLP reports a time-limited run as optimal."""
    highspy = _quiet_highspy()
    started = time.perf_counter()
    deadline = started + time_limit
    solver = pulp.HiGHS(msg=False, threads=1, gapRel=gap, timeLimit=time_limit)
    solver.createAndConfigureSolver(model.lp)
    solver.buildSolverModel(model.lp)
    highs = model.lp.solverModel
    binaries = np.array([v.index for v in model.lp.variables() if v.cat == pulp.LpInteger], dtype=np.int32)

    _set_integrality(highs, binaries, highspy.HighsVarType.kContinuous)
    if _run(highs, deadline) != highspy.HighsModelStatus.kOptimal:  # out of time before any bound
        label = "time_limit" if start else "error"
        return IlpResult(label, tuple(start), None, None, model.build_seconds, time.perf_counter() - started)
    # PuLP hands HiGHS the negated objective of a maximization: values and bounds come back negated.
    bound = -highs.getInfo().objective_function_value
    relaxed_place = highs.getSolution().col_value

    incumbents = [tuple(start)] if start else []
    _set_integrality(highs, binaries, highspy.HighsVarType.kInteger)
    _fix_rows(model, relaxed_place)
    _run(highs, started + ROUNDING_SHARE * time_limit)
    if _feasible(highs):
        solver.findSolutionValues(model.lp)
        incumbents.append(_placements(model))
    _unfix_rows(model)
    best = best_page(model.problem, incumbents)
    best_value = page_objective(model.problem, best) if best else None
    if best and not unmet_constraints(model.problem, best) and bound - best_value <= gap * abs(bound):
        return IlpResult(
            "optimal",
            best,
            bound,
            (bound - best_value) / abs(bound),
            model.build_seconds,
            time.perf_counter() - started,
        )

    values = _start_values(model, best)
    if values:
        indices = np.array([variable.index for variable in values], dtype=np.int32)
        highs.setSolution(len(indices), indices, np.array(list(values.values())))
    status = _run(highs, deadline)
    info = highs.getInfo()
    if not _feasible(highs):
        label = "infeasible" if status == highspy.HighsModelStatus.kInfeasible else "error"
        if best:  # the incumbent still stands
            return IlpResult("time_limit", best, bound, None, model.build_seconds, time.perf_counter() - started)
        return IlpResult(label, (), None, None, model.build_seconds, time.perf_counter() - started)
    solver.findSolutionValues(model.lp)
    label = "optimal" if status == highspy.HighsModelStatus.kOptimal else "time_limit"
    chosen = best_page(model.problem, [_placements(model), best])
    best_bound = min(bound, -info.mip_dual_bound)
    # The gap of the page returned, not of HiGHS's own incumbent (which may be worse than ours), relative
    # to the page's own objective: relaxation charges can bring the bound itself near zero.
    objective = page_objective(model.problem, chosen)
    value = objective - relaxation_charge(unmet_constraints(model.problem, chosen))
    return IlpResult(
        label,
        chosen,
        best_bound=best_bound,
        gap=max(best_bound - value, 0.0) / max(abs(objective), 1e-9),
        build_seconds=model.build_seconds,
        solve_seconds=time.perf_counter() - started,
    )


ROUNDING_SHARE = 0.3  # of the time budget, at most, for choosing the cards of the LP's rounded rows


def _run(highs: Any, deadline: float) -> Any:
    """Run HiGHS with what is left of the time budget; returns the model status."""
    import highspy

    highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.001))
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        # HiGHS keeps one thread scheduler per process; if another caller started it with more threads,
        # a single-threaded run is refused until the scheduler is reset.
        highspy.Highs.resetThreadScheduler()
        highs.run()
    return highs.getModelStatus()


def _feasible(highs: Any) -> bool:
    import highspy

    return highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible


def _set_integrality(highs: Any, columns: np.ndarray, kind: Any) -> None:
    if len(columns):
        highs.changeColsIntegrality(len(columns), columns, np.array([kind] * len(columns)))


def _fix_rows(model: PageModel, relaxed: Sequence[float]) -> None:
    """Round the LP's row placement: each tile, top first, gets the unused row the LP put there most
    (if any); every placement variable is then fixed to that choice."""
    chosen: dict[int, int] = {}
    for t in range(len(model.problem.tiles)):
        options = [
            (relaxed[variable.index], -r, r)
            for (r, tile), variable in model.place.items()
            if tile == t and r not in chosen.values()
        ]
        if options and max(options)[0] > 1e-6:
            chosen[t] = max(options)[2]
    for (r, t), variable in model.place.items():
        value = 1.0 if chosen.get(t) == r else 0.0
        model.lp.solverModel.changeColBounds(variable.index, value, value)


def _unfix_rows(model: PageModel) -> None:
    for variable in model.place.values():
        model.lp.solverModel.changeColBounds(variable.index, 0.0, 1.0)


def _placements(model: PageModel) -> tuple[Placement, ...]:
    """The page in the variables' current values."""
    chosen: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for (r, c, k, s), variable in model.card.items():
        if (variable.varValue or 0) > 0.5:
            chosen[r, c].append((s, k))
    placements = []
    for (r, t), variable in sorted(model.place.items(), key=lambda entry: entry[0][1]):
        if (variable.varValue or 0) > 0.5:
            cards = sorted(chosen[r, model.size_class[t]])
            placements.append(Placement(tile=t, row=r, candidates=tuple(k for _, k in cards)))
    return tuple(placements)


def _start_values(model: PageModel, start: Sequence[Placement]) -> dict[pulp.LpVariable, float]:
    """The binary variables' values for a page (0 for everything not on it)."""
    if not start:
        return {}
    problem = model.problem
    start = _better_rows_higher(model, start)
    values = dict.fromkeys([*model.place.values(), *model.card.values(), *model.covers.values()], 0.0)
    for placement in start:
        c = model.size_class[placement.tile]
        values[model.place[placement.row, placement.tile]] = 1.0
        for s, k in enumerate(placement.candidates):
            card = model.card.get((placement.row, c, k, s))
            if card is None:
                return {}  # a card the program cannot express: no start
            values[card] = 1.0
            for genre in problem.facts[problem.rows[placement.row].items[k]].genres:
                if genre in model.covers:
                    values[model.covers[genre]] = 1.0
    return values


def _better_rows_higher(model: PageModel, start: Sequence[Placement]) -> list[Placement]:
    """The start page with the rows of same-size unpinned tiles sorted best first, as the program's
    symmetry rule asks (and as attention rewards)."""
    problem = model.problem
    groups: dict[int, list[Placement]] = defaultdict(list)
    fixed = []
    for placement in start:
        if problem.tiles[placement.tile].pinned is None:
            groups[model.size_class[placement.tile]].append(placement)
        else:
            fixed.append(placement)
    reordered = list(fixed)
    for group in groups.values():
        tiles = sorted(p.tile for p in group)
        ranked = sorted(group, key=lambda p: -_row_value(problem, p))
        reordered += [Placement(tile, p.row, p.candidates) for tile, p in zip(tiles, ranked, strict=True)]
    return reordered


def _row_value(problem: PageProblem, placement: Placement) -> float:
    row = problem.rows[placement.row]
    return sum(problem.slot_attention(s) * row.scores[k] for s, k in enumerate(placement.candidates))


@functools.cache
def _quiet_highspy() -> ModuleType:
    """highspy, with its one-time banner (printed to standard output when the first solver is made)
    kept out of standard output, where it would corrupt `pagegen page --json`."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highspy
