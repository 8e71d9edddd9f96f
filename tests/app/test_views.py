"""The frames behind Compare and Insights, from hand-made pages with known answers."""

import dataclasses

import pytest

from pagegen.app import views
from pagegen.evaluation.reports import save_report
from pagegen.evaluation.scenarios import (
    SCENARIO_COLUMNS,
    OptimizerResult,
    ScenarioReport,
    ScenarioResult,
    load_scenarios,
)
from pagegen.rows import ItemFacts
from tests.app.test_render import _item, _page, _row
from tests.factories import pages_report


def test_genre_mix_shares_of_page_and_history():
    page = _page(_row("carousel", 3))  # every card: Action, Crime
    history = [ItemFacts("A", 1990, ("Drama",), False, 0.5), ItemFacts("B", 1991, ("Drama", "Crime"), False, 0.5)]
    mix = {(r["genre"], r["where"]): r["share"] for r in views.genre_mix(page, history).to_dicts()}
    assert mix == {
        ("Action", "page"): 0.5,
        ("Crime", "page"): 0.5,
        ("Drama", "history"): 2 / 3,
        ("Crime", "history"): 1 / 3,
    }
    views.genre_mix_chart(views.genre_mix(page, history)).to_dict()  # a valid Vega-Lite spec


def test_row_stats_relevance_and_diversity():
    row = _row("carousel", 2)
    row = dataclasses.replace(row, items=(_item(1, relevance=0.2), dataclasses.replace(_item(2), genres=("Drama",))))
    stats = views.row_stats(_page(row)).to_dicts()[0]
    assert stats["relevance"] == pytest.approx(0.5) and stats["diversity"] == pytest.approx(1.0)
    views.row_stats_chart(views.row_stats(_page(row))).to_dict()


def test_compare_differences_and_metrics():
    first = _page(_row("carousel", 3))
    second = _page(dataclasses.replace(_row("carousel", 3), items=(_item(100), _item(7), _item(8))))
    assert views.only_on_first(first, second) == {101, 102}
    table = views.metrics_table({"a": (first, 101), "b": (second, None)}, {100: 0.5})
    metrics = dict(zip(table["metric"], zip(table["a"], table["b"], strict=True), strict=True))
    assert metrics["hit"] == (1.0, 0.0) and metrics["items"] == (3.0, 3.0) and metrics["objective"] == (1.0, 1.0)


def test_diversity_sweep_visits_and_marks_the_current_setting():
    asked = []

    def page_at(share):
        asked.append(share)
        return _page(_row("carousel", 3))

    sweep = views.diversity_sweep(page_at, 0.45, {}, shares=(0.2, 0.5))
    assert asked == [0.2, 0.45, 0.5]
    assert sweep.filter(sweep["current"])["max_genre_share"].to_list() == [0.45]
    views.sweep_chart(sweep).to_dict()


def test_saved_reports_as_tables():
    table = views.optimizer_table(pages_report())
    assert table["optimizer"].to_list() == ["ilp", "greedy", "mmr"] and table["hit"].to_list() == [0.6, 0.4, 0.2]
    assert "relaxed_pages" not in table.columns
    views.optimizer_chart(table).to_dict()
    generators = {"reports": [{"model": "ease", "metrics": {"ndcg@10": 0.2}, "fit_seconds": 1, "score_seconds": 0.1}]}
    assert views.generator_table(generators).row(0) == ("ease", 0.2, 1, 0.1)


def scenario_report() -> ScenarioReport:
    """A hand-made scenario report: 4 users, 8 tiles, 30 rows shown (so 2 tiles empty); the dashboard
    test saves it too."""

    def result(optimizer, objective, optimal):
        return OptimizerResult(
            optimizer=optimizer, pages=4, filled=0.975, rows_shown=30, rows_short=1, tiles_empty=8 * 4 - 30,
            relaxed_pages=1, relaxations={"min_page_genres": 1}, objective=objective, hit=0.25, carousel_ndcg=0.1,
            intra_row_diversity=0.6, genres_covered=9.5, catalog_coverage=0.3, exposure_gini=0.7, p50_ms=12.0,
            p95_ms=40.0, optimal_share=optimal,
        )  # fmt: skip

    kids = ScenarioResult(
        scenario="kids", layout="kids", settings={}, description="children", card_slots=33, tiles=8,
        optimizers=(result("ilp", 2.0, 0.75), result("greedy", 1.5, None)), greedy_breaks_ilp_keeps=1,
        ilp_breaks_greedy_keeps=0, ilp_below_greedy=0, ilp_below_rule_keeping_greedy=0,
    )  # fmt: skip
    return ScenarioReport(dataset="synth", users=4, workers=1, node_limit=2000, seconds=3.5, scenarios=(kids,))


def test_saved_scenario_report_as_a_table(tmp_path):
    save_report(tmp_path, "synth", "scenarios", dataclasses.asdict(scenario_report()))
    table = views.scenario_table(load_scenarios(tmp_path, "synth"))
    assert table.columns == ["scenario", "optimizer", *(c.field for c in SCENARIO_COLUMNS)]
    assert table["optimizer"].to_list() == ["ilp", "greedy"] and table["scenario"].to_list() == ["kids", "kids"]
    assert table["objective"].to_list() == [2.0, 1.5] and table["optimal_share"].to_list() == [0.75, None]
    assert table["tiles_empty"].to_list() == [2, 2]
    save_report(tmp_path, "synth", "scenarios", {"users": 4})  # an older shape reads as no report
    assert load_scenarios(tmp_path, "synth") is None
