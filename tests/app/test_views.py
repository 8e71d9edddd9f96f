"""The frames behind Compare and Insights, from hand-made pages with known answers."""

import dataclasses

import pytest

from pagegen.app import views
from pagegen.evaluation.protocol import EvaluationReport
from pagegen.evaluation.reports import save_report
from pagegen.evaluation.scenarios import (
    SCENARIO_COLUMNS,
    load_scenarios,
)
from pagegen.rows import ItemFacts
from tests.factories import card_item, card_row, cards_page, pages_report, scenario_report


def test_genre_mix_shares_of_page_and_history():
    page = cards_page(card_row("carousel", 3))  # every card: Action, Crime
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
    row = card_row("carousel", 2)
    row = dataclasses.replace(
        row, items=(card_item(1, relevance=0.2), dataclasses.replace(card_item(2), genres=("Drama",)))
    )
    stats = views.row_stats(cards_page(row)).to_dicts()[0]
    assert stats["relevance"] == pytest.approx(0.5) and stats["diversity"] == pytest.approx(1.0)
    views.row_stats_chart(views.row_stats(cards_page(row))).to_dict()


def test_compare_differences_and_metrics():
    first = cards_page(card_row("carousel", 3))
    second = cards_page(
        dataclasses.replace(card_row("carousel", 3), items=(card_item(100), card_item(7), card_item(8)))
    )
    assert views.only_on_first(first, second) == {101, 102}
    table = views.metrics_table({"a": (first, 101), "b": (second, None)}, {100: 0.5})
    metrics = dict(zip(table["metric"], zip(table["a"], table["b"], strict=True), strict=True))
    assert metrics["hit"] == (1.0, 0.0) and metrics["items"] == (3.0, 3.0) and metrics["objective"] == (1.0, 1.0)


def test_diversity_sweep_visits_and_marks_the_current_setting():
    asked = []

    def page_at(share):
        asked.append(share)
        return cards_page(card_row("carousel", 3))

    sweep = views.diversity_sweep(page_at, 0.45, {}, shares=(0.2, 0.5))
    assert asked == [0.2, 0.45, 0.5]
    assert sweep.filter(sweep["current"])["max_genre_share"].to_list() == [0.45]
    views.sweep_chart(sweep).to_dict()


def test_saved_reports_as_tables():
    table = views.optimizer_table(pages_report())
    assert table["optimizer"].to_list() == ["ilp", "greedy", "mmr", "relevance_only"]
    assert table["hit"].to_list() == [0.6, 0.4, 0.2, 0.7] and "relaxed_pages" not in table.columns
    views.optimizer_chart(table).to_dict()
    # The reliability chart's points: the ILP pages' groups, predicted against observed.
    report = dataclasses.replace(
        pages_report(),
        optimizers=tuple(
            dataclasses.replace(r, reliability=((0.1, 0.08, 3), (0.3, 0.33, 2))) if r.optimizer == "ilp" else r
            for r in pages_report().optimizers
        ),
    )
    reliability = views.reliability_table(report)
    assert reliability.rows() == [(0.1, 0.08, 3), (0.3, 0.33, 2)]
    views.reliability_chart(reliability).to_dict()
    ease = EvaluationReport("ease", "synth", "leave-last-out", 5, {"ndcg@10": 0.2}, 1.0, 0.1)
    assert views.generator_table([ease]).row(0) == ("ease", 0.2, 1.0, 0.1)


def test_saved_scenario_report_as_a_table(tmp_path):
    save_report(tmp_path, "synth", "scenarios", dataclasses.asdict(scenario_report()))
    table = views.scenario_table(load_scenarios(tmp_path, "synth"))
    assert table.columns == ["scenario", "optimizer", *(c.field for c in SCENARIO_COLUMNS)]
    assert table["optimizer"].to_list() == ["ilp", "greedy"] and table["scenario"].to_list() == ["kids", "kids"]
    assert table["objective"].to_list() == [2.0, 1.5] and table["optimal_share"].to_list() == [0.75, None]
    assert table["tiles_empty"].to_list() == [2, 2]
    save_report(tmp_path, "synth", "scenarios", {"users": 4})  # an older shape reads as no report
    assert load_scenarios(tmp_path, "synth") is None
