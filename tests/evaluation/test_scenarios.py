"""The scenario benchmark on a small synthetic dataset: its vocabulary, a run's bookkeeping against
pages built directly, the text formatter, and the ``evaluate-pages --scenarios`` command."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json

import numpy as np
import pytest

from pagegen import cli
from pagegen.batch.engines import EngineChoice
from pagegen.evaluation.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioReport,
    evaluate_scenarios,
    format_scenarios,
    load_scenarios,
)
from pagegen.layout import Constraints, resolve_layout
from pagegen.optimizer import OPTIMIZERS, optimize
from pagegen.serving import PageService
from tests.factories import synthetic_service

USERS = 3


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    # 400 items: enough for every scenario's layout to fill (a 120-item catalogue cannot, and proving
    # that takes the MIP seconds per page)
    return synthetic_service(tmp_path_factory.mktemp("scenarios"), items=400)


@pytest.fixture(scope="module")
def command(service):
    """``pagegen evaluate-pages --scenarios`` on the first users, once for the module: its stdout and stderr."""
    argv = ["--data-dir", str(service.data_dir), "evaluate-pages", "--dataset", "synth", "--scenarios"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main([*argv, "--users", str(USERS), "--workers", "1", "--json"]) == 0
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def report(command):
    return ScenarioReport.from_dict(json.loads(command[0]))


def test_every_scenario_names_a_layout_and_valid_settings():
    names = [scenario.name for scenario in SCENARIOS]
    assert len(set(names)) == len(names) >= 6
    for scenario in SCENARIOS:
        layout = resolve_layout(scenario.layout)
        constraints = PageService.constraints(layout, scenario.overrides)
        assert isinstance(constraints, Constraints)
        assert all(getattr(constraints, key) == value for key, value in scenario.settings)
    strict = next(s for s in SCENARIOS if s.name == "strict-diversity")
    assert strict.overrides == {"max_genre_share": 0.2, "min_page_genres": 14, "min_new_items": 10}


def test_a_run_counts_add_up(report):
    assert report.dataset == "synth" and report.users == USERS
    assert [s.scenario for s in report.scenarios] == [s.name for s in SCENARIOS]
    for scenario in report.scenarios:
        assert tuple(r.optimizer for r in scenario.optimizers) == OPTIMIZERS
        assert scenario.card_slots == resolve_layout(scenario.layout).total_slots
        for result in scenario.optimizers:
            assert result.pages == USERS and 0 <= result.filled <= 1
            assert result.rows_shown + result.tiles_empty == scenario.tiles * USERS
            assert 0 <= result.rows_short <= result.rows_shown
            assert 0 <= result.relaxed_pages <= USERS
            assert (result.relaxed_pages == 0) == (not result.relaxations)
            assert max(result.relaxations.values(), default=0) <= result.relaxed_pages
            assert result.relaxed_pages <= sum(result.relaxations.values())
            assert 0 <= result.catalog_coverage <= 1 and 0 <= result.exposure_gini <= 1
            assert 0 <= result.hit <= 1 and 0 <= result.p50_ms <= result.p95_ms
            assert (result.optimal_share is None) == (result.optimizer != "ilp")
        assert 0 <= scenario.ilp_below_rule_keeping_greedy <= scenario.ilp_below_greedy <= USERS
        # The ILP ranks relaxed rules before the objective: it may score below a greedy page that is
        # further off a rule, never below one that is not.
        assert scenario.ilp_below_rule_keeping_greedy == 0


def test_a_run_matches_pages_built_directly(service):
    scenarios = (SCENARIOS[1], Scenario("kids, one genre", "kids", (("max_genre_share", 0.5),), "settings passed on"))
    report = evaluate_scenarios(service, scenarios=scenarios, max_users=2, engine=EngineChoice("local", 1))
    users = [int(u) for u in service.user_ids()[:2]]
    for scenario, result in zip(scenarios, report.scenarios, strict=True):
        layout = resolve_layout(scenario.layout)
        pages = {
            name: [optimize(service.problem(u, layout, scenario.overrides), name, compare=False) for u in users]
            for name in OPTIMIZERS
        }
        for name, built in pages.items():
            summary = result.result(name)
            assert summary.objective == pytest.approx(np.mean([p.report.objective for p in built]))
            assert summary.filled == pytest.approx(np.mean([len(p.item_ids) / layout.total_slots for p in built]))
            assert summary.rows_shown == sum(len(p.rows) for p in built)
            assert summary.relaxed_pages == sum(bool(p.report.relaxations) for p in built)
        assert result.greedy_breaks_ilp_keeps == sum(
            bool({r.constraint for r in greedy.report.relaxations} - {r.constraint for r in ilp.report.relaxations})
            for ilp, greedy in zip(pages["ilp"], pages["greedy"], strict=True)
        )
        assert result.ilp_below_greedy == sum(
            ilp.report.objective < greedy.report.objective - 1e-6
            for ilp, greedy in zip(pages["ilp"], pages["greedy"], strict=True)
        )
        ilp = result.result("ilp")
        assert ilp.optimal_share == pytest.approx(np.mean([p.report.status == "optimal" for p in pages["ilp"]]))


def test_the_report_round_trips_through_json(report):
    assert ScenarioReport.from_dict(json.loads(json.dumps(dataclasses.asdict(report)))) == report


def test_the_text_names_every_scenario_and_optimizer(report):
    text = format_scenarios(report)
    lines = text.splitlines()
    assert lines[0].startswith(f"synth · {USERS} users · {len(SCENARIOS)} scenarios")
    for scenario in SCENARIOS:
        table_rows = [line for line in lines if line.startswith(f"{scenario.name} ")]
        assert [row.split()[1] for row in table_rows] == list(OPTIMIZERS)
        assert any(line.startswith(f"{scenario.name}: layout {scenario.layout}") for line in lines)


def test_the_command_prints_json_quietly_and_saves_the_report(service, command, report):
    assert command[1] == ""  # no progress bar under --json
    assert report.users == USERS and load_scenarios(service.data_dir, "synth") == report  # for the dashboard


@pytest.mark.parametrize("extra", [["--layout", "kids"], ["--set", "max_genre_share=0.3"], ["--optimizer", "ilp"]])
def test_scenarios_refuse_a_layout_settings_or_optimizer(service, capsys, monkeypatch, extra):
    monkeypatch.setenv("PAGEGEN_DATA_DIR", str(service.data_dir))
    assert cli.main(["evaluate-pages", "--dataset", "synth", "--scenarios", *extra]) == 2
    err = capsys.readouterr().err
    assert "leave out --layout, --set and --optimizer" in err and err.count("\n") == 1
