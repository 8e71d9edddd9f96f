"""The page evaluation's report: its JSON form (what the CLI prints and Insights reads back) and its text."""

import dataclasses
import json

import pytest

from pagegen.evaluation.pages import (
    PagesReport,
    best_row_on_top,
    format_pages,
    load_pages,
    relevance_only_page,
    rows_out_of_order,
)
from pagegen.evaluation.reports import save_report
from pagegen.layout import resolve_layout
from tests.factories import pages_report

# What `pagegen evaluate-pages --json` printed before the browsing model and the ranker: its carousel
# NDCG read the page in a different order, so it must not load as a report of today's figures.
OLD_JSON = {
    "dataset": "synth", "layout": "Default streaming page", "users": 4, "seconds": 1.5,
    "ilp": {"attention_relevance": 0.8, "hit": 0.25, "carousel_ndcg": 0.1, "intra_row_diversity": 0.7,
            "genres_covered": 9.0, "novelty": 3.0, "duplicates": 0.0, "items": 33.0, "objective": 2.0,
            "relaxed_pages": 1, "catalog_coverage": 0.4, "exposure_gini": 0.6},
    "top_picks_alone": {"hit": 0.25},
    "ilp_vs_greedy": {"users_ilp_at_least_greedy": 4, "mean_objective_gain": 0.5, "statuses": {"optimal": 4}},
}  # fmt: skip


def test_json_round_trip_keeps_the_shape():
    report = pages_report()
    payload = json.loads(json.dumps(report.to_dict()))
    assert list(payload) == ["dataset", "layout", "users", "seconds", "ilp", "greedy", "mmr", "relevance_only",
                             "price_of_rules", "ilp_vs_greedy"]  # fmt: skip
    assert "optimizer" not in payload["ilp"] and payload["greedy"]["relaxed_pages"] == 2
    assert payload["ilp"]["intervals"]["hit"] == pytest.approx([0.5, 0.7])
    assert PagesReport.from_dict(payload) == report


def test_the_price_of_the_rules_is_the_relevance_only_page_less_the_ilp_page():
    price = pages_report().price_of_rules()
    assert price == pytest.approx({"hit": 0.7 - 0.6, "carousel_ndcg": 0.1 - 0.1, "expected_good_picks": 0.0})


def test_a_report_of_the_old_figures_does_not_load(tmp_path):
    save_report(tmp_path, "synth", "pages", OLD_JSON)
    assert load_pages(tmp_path, "synth") is None
    with pytest.raises(TypeError, match="expected_good_picks"):
        PagesReport.from_dict(OLD_JSON)
    save_report(tmp_path, "synth", "pages", {"users": 5, "ilp": {"hit": 0.5}})
    assert load_pages(tmp_path, "synth") is None
    assert load_pages(tmp_path, "other") is None


def test_text_table():
    lines = format_pages(pages_report()).splitlines()
    assert lines[0] == "synth · Default streaming page · 5 users · 2.3 s"
    assert lines[1].split() == ["optimizer", "objective", "expected_good_picks", "hit", "carousel_ndcg",
                                "attention_relevance", "intra_row_diversity", "genres_covered", "novelty",
                                "catalog_coverage", "exposure_gini", "relaxed_pages"]  # fmt: skip
    # widths: each column its name's length + 2, at least 10
    assert lines[3] == (
        "greedy         " + "1.5000".rjust(11) + "0.1200".rjust(21) + "0.4000".rjust(10) + "0.1000".rjust(15)
        + "0.8000".rjust(21) + "0.7000".rjust(21) + "9.0000".rjust(16) + "3.0000".rjust(10) + "0.4000".rjust(18)
        + "0.6000".rjust(15) + "2.0000".rjust(15)
    )  # fmt: skip
    assert lines[5].startswith("relevance_only ")
    assert (
        lines[7] == "  ilp            hit 0.5000–0.7000, carousel_ndcg 0.0500–0.1500, expected_good_picks 0.1000–0.1400"
    )
    assert "what the rules cost (relevance-only minus ILP): hit +0.1000" in format_pages(pages_report())
    assert lines[-1] == "ILP ≥ greedy on 5 of 5 users, mean objective gain 0.5000; ILP statuses {'optimal': 5}"


def test_the_relevance_only_page_puts_the_most_probable_items_where_people_look_most(small_service):
    layout = resolve_layout("mobile")  # four carousels of six: 24 cards
    user = int(small_service.user_ids()[0])
    page = relevance_only_page(small_service, user, layout)
    probability = small_service.builder.probabilities(small_service.history(user))
    best = sorted(probability.tolist(), reverse=True)[:24]
    cards = sorted((item for row in page.rows for item in row.items), key=lambda item: -item.attention)
    assert [item.probability for item in cards] == pytest.approx(best, abs=1e-9)  # best where looked at most
    assert page.rows[0].items[0].probability == pytest.approx(best[0])
    assert page.report.objective == pytest.approx(sum(i.attention * i.probability for i in cards), abs=1e-6)
    assert not rows_out_of_order(page, layout) and best_row_on_top(page)
    swapped = dataclasses.replace(page, rows=(page.rows[1], page.rows[0], *page.rows[2:]))
    assert not best_row_on_top(swapped)
