"""The page as an integer linear program: PuLP states it (``pagegen page --export-lp`` writes it), HiGHS
solves it in process. The decomposition in ``decompose.py`` solves the same program faster and proves
most pages; this model is what proves the rest, started from the decomposition's best page.

Variables
- ``place[r,t]``: candidate row r fills tile t (any row may take a pinned tile, at a charge).
- ``card[r,c,k,s]``: the k-th candidate of row r sits on card s of the row when the row is shown in a
  tile of size class c (tiles of one size share contents). Only s ≤ k is possible: at most k better
  candidates come before it. Each row's cards form an assignment problem, whose LP relaxation is
  integral, so the solver's branching is spent on which row goes where.
- ``gain[r,t]``: the attention-free value of row r's cards when it fills tile t, else 0 (between the
  row's worst and best possible values when placed), so the objective Σ attention_t · gain[r,t] stays
  linear whatever the sign of the scores.
- ``new[i]``, ``covers[g]``: a new item / a genre is on the page (coverage counts distinct items).
- ``slack_*``: how far each page-level rule is relaxed, charged (``relaxation_charges``) so that rules
  give way lexicographically in the documented order.
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
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pulp

from pagegen.files import atomic_path
from pagegen.optimizer.page import (
    Placement,
    best_page,
    better_rows_higher,
    page_objective,
    relaxation_charges,
    shortfalls,
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
    status: str  # optimal, limit (nodes or rounds), infeasible or error
    placements: tuple[Placement, ...]
    best_bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float


def build_page_problem(problem: PageProblem) -> PageModel:
    """The ILP of ``problem``: pure construction, nothing solved."""
    started = time.perf_counter()
    constraints, rows, tiles = problem.constraints, problem.rows, problem.tiles
    charges = relaxation_charges(problem)
    lp = pulp.LpProblem("page", pulp.LpMaximize)
    size_class = {t: tile.slots for t, tile in enumerate(tiles)}
    classes = sorted(set(size_class.values()))
    tiles_of = {c: [t for t in range(len(tiles)) if size_class[t] == c] for c in classes}

    place = {
        (r, t): lp.add_variable(f"place_{r}_{t}", cat=pulp.LpBinary)
        for r in range(len(rows))
        for t in range(len(tiles))
        if problem.fits(r, t)
    }
    card = {
        (r, c, k, s): lp.add_variable(f"card_{r}_{c}_{k}_{s}", cat=pulp.LpBinary)
        for r, row in enumerate(rows)
        for c in classes
        for k in range(len(row.items))
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
    extremes = {  # the best and the worst value a row's full cards can have in a tile of class c
        (r, c): (
            sum(problem.slot_attention(s) * v for s, v in enumerate(sorted(rows[r].scores, reverse=True)[:c])),
            sum(problem.slot_attention(s) * v for s, v in enumerate(sorted(rows[r].scores)[:c])),
        )
        for r, c in cards_of
    }
    gain = {(r, t): lp.add_variable(f"gain_{r}_{t}") for r, t in place}
    covers: dict[str, pulp.LpVariable] = {}
    slack = {
        name: lp.add_variable(f"slack_{name}", lowBound=0)
        for name in ("min_new_items", "min_page_genres")
        if getattr(constraints, name) > 0
    }

    # Each tile shows one row or is left empty (charged); each row fills at most one tile.
    empty = {}
    for t in range(len(tiles)):
        empty[t] = lp.add_variable(f"empty_{t}", lowBound=0, upBound=1)
        lp += (
            pulp.lpSum(place[r, t] for r in range(len(rows)) if (r, t) in place) + empty[t] == 1,
            f"one_row_in_tile_{t}",
        )
    for r in range(len(rows)):
        lp += pulp.lpSum(place[r, t] for t in range(len(tiles)) if (r, t) in place) <= 1, f"row_used_once_{r}"

    # A shown row fills every card of its tile, one candidate each, each candidate at most once.
    for (r, c), cards in cards_of.items():
        for s in range(c):
            lp += pulp.lpSum(card[r, c, k, slot] for k, slot in cards if slot == s) == shown[r, c], f"card_{r}_{c}_{s}"
        for k in sorted({k for k, _ in cards}):
            lp += (
                pulp.lpSum(card[r, c, k, s] for kk, s in cards if kk == k) <= shown[r, c],
                f"candidate_once_{r}_{c}_{k}",
            )

    # Per-row diversity: no genre (but the row's own theme) on more than max_genre_share of its cards.
    for (r, c), cards in cards_of.items():
        row, cap = rows[r], problem.genre_cap(c)
        for genre in sorted(problem.capped_genres(row)):
            with_genre = [card[r, c, k, s] for k, s in cards if genre in problem.facts[row.items[k]].genres]
            if len({k for k, _ in cards if genre in problem.facts[row.items[k]].genres}) > cap:
                lp += pulp.lpSum(with_genre) <= cap, f"genre_share_{r}_{c}_{genre}"

    # No item twice on the page (hard), or each repeat charged dedup_penalty × the item's value (soft).
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
            repeats.append((problem.repeat_charge(item), repeat))

    # A row's gain in a tile is its card value if it is placed there, else nothing.
    for (r, t), variable in gain.items():
        best, worst = extremes[r, size_class[t]]
        lp += variable <= max(best, 0.0) * place[r, t], f"gain_needs_place_{r}_{t}"
        lp += variable >= min(worst, 0.0) * place[r, t], f"gain_zero_unplaced_{r}_{t}"
    for (r, c), row_value in value.items():
        lp += pulp.lpSum(gain[r, t] for t in tiles_of[c] if (r, t) in gain) <= row_value, f"gain_is_value_{r}_{c}"

    # Symmetry: of two unpinned tiles of one size, the higher one holds the better row (swapping them
    # changes nothing else, and attention falls down the page), so the solver need not try both orders.
    free = [t for t, tile in enumerate(tiles) if tile.pinned is None]
    for upper, lower in itertools.pairwise(free):
        if size_class[upper] == size_class[lower]:
            lp += (
                pulp.lpSum(gain[r, upper] for r in range(len(rows)) if (r, upper) in gain)
                >= pulp.lpSum(gain[r, lower] for r in range(len(rows)) if (r, lower) in gain),
                f"better_row_higher_{upper}_{lower}",
            )

    # Row types: at most max_rows_per_type each; required types at least once; pinned tiles their type.
    by_type: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (r, _t), variable in place.items():
        by_type[rows[r].reason.row_type].append(variable)
    for row_type, variables in sorted(by_type.items()):
        if sum(row.reason.row_type == row_type for row in rows) > constraints.max_rows_per_type:
            lp += pulp.lpSum(variables) <= constraints.max_rows_per_type, f"rows_per_type_{row_type}"
    required_slacks = []
    for row_type in constraints.required_row_types:
        missing = lp.add_variable(f"slack_required_{row_type}", lowBound=0, upBound=1)
        lp += pulp.lpSum(by_type.get(row_type, [])) + missing >= 1, f"required_{row_type}"
        required_slacks.append(missing)
    pinned_slacks, asked_slacks = [], []
    for t, tile in enumerate(tiles):
        if tile.pinned is not None:
            keeping = [place[r, t] for r in range(len(rows)) if (r, t) in place and problem.keeps_pin(r, t)]
            missing = lp.add_variable(f"slack_pinned_{t}", lowBound=0, upBound=1)
            lp += pulp.lpSum(keeping) + missing >= 1, f"pinned_{t}"
            (asked_slacks if problem.exclusive(t) else pinned_slacks).append(missing)

    # Page coverage: at least min_new_items distinct new items and min_page_genres distinct genres.
    if "min_new_items" in slack:
        new_items = []
        for item, variables in sorted(appearances.items()):
            if problem.facts[item].is_new:
                new_items.append(lp.add_variable(f"new_{item}", lowBound=0, upBound=1))
                lp += new_items[-1] <= pulp.lpSum(variables), f"new_shown_{item}"
        lp += pulp.lpSum(new_items) + slack["min_new_items"] >= constraints.min_new_items, "min_new_items"
    if "min_page_genres" in slack:
        for genre in sorted({g for facts in problem.facts.values() for g in facts.genres}):
            cards_with = [v for (r, c, k, s), v in card.items() if genre in problem.facts[rows[r].items[k]].genres]
            if cards_with:
                covers[genre] = lp.add_variable(f"covers_{genre}", cat=pulp.LpBinary)
                lp += covers[genre] <= pulp.lpSum(cards_with), f"covers_{genre}"
        lp += pulp.lpSum(covers.values()) + slack["min_page_genres"] >= constraints.min_page_genres, "min_page_genres"

    lp += (
        pulp.lpSum(problem.tile_attention(t) * variable for (r, t), variable in gain.items())
        - pulp.lpSum(charge * repeat for charge, repeat in repeats)
        - pulp.lpSum(charges[name] * variable for name, variable in slack.items())
        - charges["required_row_types"] * pulp.lpSum(required_slacks)
        - charges["pinned"] * pulp.lpSum(pinned_slacks)
        - charges["fill_every_tile"] * pulp.lpSum(empty.values())
        - charges["asked_rows"] * pulp.lpSum(asked_slacks)
    )
    return PageModel(problem, lp, place, card, size_class, covers, time.perf_counter() - started)


def export_lp(problem: PageProblem, path: Path) -> Path:
    """Write the page's program in LP format to ``path`` (atomically): the model a person can read and
    hand to any solver."""
    model = build_page_problem(problem)
    with atomic_path(path) as temp:
        model.lp.writeLP(str(temp))
    return path


# HiGHS's rounds: it checks its limits after each cut round at the root and each node, and a callback
# counts the checks. The node limit leaves the root unbounded, where strict pages spend their time;
# this bounds both. (HiGHS 1.16 has no simplex-iteration cap for a MIP: ``simplex_iteration_limit``
# skips the MIP's own LPs, and its callbacks do not give Python the MIP's LP iteration count.) On the
# calibrated objective the pages left to the MIP are the strict ones the decomposition finds no
# rule-keeping page for; on ml-100k 50 nodes / 500 rounds took 8.8–11 s a page and 200 / 2000 took
# 9.4–15.7 s, keeping the same rules or one more: the limits below keep a slider's wait to seconds.
NODE_LIMIT = 30  # branch-and-bound nodes for the pages the decomposition finds no bound for
ROUND_LIMIT = 300


def solve_page_model(
    model: PageModel,
    *,
    start: Sequence[Placement] = (),
    node_limit: int = NODE_LIMIT,
    round_limit: int = ROUND_LIMIT,
    gap: float = 0.005,
) -> IlpResult:
    """Solve with HiGHS in process, single-threaded (small programs solve fastest that way), from
    ``start``, stopping after ``node_limit`` branch-and-bound nodes or ``round_limit`` rounds: counts,
    never a clock, so the same problem always gives the same page on any machine. HiGHS's own status is
    read, since PuLP reports a limited run as optimal; the gap is that of the page returned, relative to
    its objective (charges aside)."""
    highspy = _quiet_highspy()
    problem = model.problem
    started = time.perf_counter()
    scale = max(abs(page_objective(problem, start)), 1.0) if start else 1.0
    solver = pulp.HiGHS(msg=False, threads=1, gapRel=0.0, gapAbs=gap * scale)
    solver.createAndConfigureSolver(model.lp)
    solver.buildSolverModel(model.lp)
    highs = model.lp.solverModel
    highs.setOptionValue("mip_max_nodes", node_limit)
    # The start is already a good page: sub-MIP heuristics and restarts cost seconds on pages whose tiles
    # cannot all be filled, and measured here never found a better page than branching did.
    for option in ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_allow_restart"):
        highs.setOptionValue(option, False)
    rounds = 0

    def count_round(event: Any) -> None:
        nonlocal rounds
        rounds += 1
        if rounds >= round_limit:
            event.interrupt()

    highs.cbMipInterrupt.subscribe(count_round)
    values = _start_values(model, start)
    if values:
        indices = np.array([variable.index for variable in values], dtype=np.int32)
        highs.setSolution(len(indices), indices, np.array(list(values.values())))
    status = _run(highs)
    seconds = time.perf_counter() - started
    if not _feasible(highs):
        label = "infeasible" if status == highspy.HighsModelStatus.kInfeasible else "error"
        return IlpResult(label if not start else "limit", tuple(start), None, None, model.build_seconds, seconds)
    # Values straight from HiGHS: PuLP's reader knows no node-limit status.
    chosen = best_page(problem, [_placements(model, highs.getSolution().col_value), start])
    objective = page_objective(problem, chosen)
    # PuLP hands HiGHS the negated objective of a maximization: its dual bound comes back negated. It
    # bounds the charged objective; the page's own charges added back, it bounds the objective of every
    # page that relaxes no more than this one.
    bound = max(-highs.getInfo().mip_dual_bound + _charged(problem, chosen), objective)
    return IlpResult(
        "optimal" if status == highspy.HighsModelStatus.kOptimal else "limit",
        chosen,
        best_bound=bound,
        gap=(bound - objective) / max(abs(objective), 1e-9),
        build_seconds=model.build_seconds,
        solve_seconds=seconds,
    )


def _charged(problem: PageProblem, placements: Sequence[Placement]) -> float:
    """What the program charges for the placements' relaxations."""
    charges = relaxation_charges(problem)
    return sum(charges[name] * units for name, units in shortfalls(problem, placements).items())


def _run(highs: Any) -> Any:
    """Run HiGHS; returns the model status."""
    import highspy

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


def _placements(model: PageModel, values: Sequence[float]) -> tuple[Placement, ...]:
    """The page in the variables' current values."""
    chosen: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for (r, c, k, s), variable in model.card.items():
        if values[variable.index] > 0.5:
            chosen[r, c].append((s, k))
    placements = []
    for (r, t), variable in sorted(model.place.items(), key=lambda entry: entry[0][1]):
        if values[variable.index] > 0.5:
            # Candidates are sorted best score first: in their order the cards run best first, whatever
            # slot the solver gave each (tied scores leave it free to seat them in any order).
            cards = sorted(k for _, k in chosen[r, model.size_class[t]])
            placements.append(Placement(tile=t, row=r, candidates=tuple(cards)))
    return tuple(placements)


def _start_values(model: PageModel, start: Sequence[Placement]) -> dict[pulp.LpVariable, float]:
    """The binary variables' values for a page (0 for everything not on it)."""
    if not start:
        return {}
    problem = model.problem
    start = better_rows_higher(problem, start)
    values = dict.fromkeys([*model.place.values(), *model.card.values(), *model.covers.values()], 0.0)
    for placement in start:
        c = model.size_class[placement.tile]
        values[model.place[placement.row, placement.tile]] = 1.0
        for s, k in enumerate(sorted(placement.candidates)):
            card = model.card.get((placement.row, c, k, s))
            if card is None:
                return {}  # a card the program cannot express: no start
            values[card] = 1.0
            for genre in problem.facts[problem.rows[placement.row].items[k]].genres:
                if genre in model.covers:
                    values[model.covers[genre]] = 1.0
    return values


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
