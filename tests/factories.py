"""Shared factories: tiny datasets, a page to title, hand-made reports, and a page service over a small
synthetic dataset with models small enough to train in seconds. (Loopback HTTP servers are in
tests/loopback.py, which imports no pagegen, so the root conftest stays quick to load.)"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pagegen.data import Dataset, SynthConfig, load_dataset, synthesize, write_dataset
from pagegen.evaluation.pages import IlpVersusGreedy, OptimizerPages, PagesReport
from pagegen.evaluation.scenarios import OptimizerResult, ScenarioReport, ScenarioResult
from pagegen.llm.title_rules import TitleFacts
from pagegen.optimizer import Page, PageItem, PageRow, SolverReport
from pagegen.rows import RowReason
from pagegen.serving import PageService

SMALL_SASREC = {"hidden": 16, "layers": 1, "heads": 1, "max_len": 20, "max_epochs": 2}
SMALL_MODELS = {"sasrec": SMALL_SASREC, "ease": {"l2": 10.0}}


def make_dataset(
    directory: Path,
    name: str,
    rows: list[tuple[int, int, float, int]],
    n_items: int = 12,
    genres: list[list[str]] | None = None,
) -> Dataset:
    """A dataset of ``(user_id, item_id, rating, timestamp)`` rows over items 1…n_items, written to and
    loaded from ``directory``; items alternate Comedy/Drama unless ``genres`` are given."""
    interactions = pl.DataFrame(rows, schema=["user_id", "item_id", "rating", "timestamp"], orient="row").cast(
        {"user_id": pl.Int32, "item_id": pl.Int32, "rating": pl.Float32, "timestamp": pl.Int64}
    )
    items = pl.DataFrame(
        {
            "item_id": list(range(1, n_items + 1)),
            "title": [f"Item {i}" for i in range(1, n_items + 1)],
            "year": [1990 + i for i in range(n_items)],
            "genres": genres or [["Drama"] if i % 2 else ["Comedy"] for i in range(n_items)],
        },
        schema={"item_id": pl.Int32, "title": pl.String, "year": pl.Int32, "genres": pl.List(pl.String)},
    )
    write_dataset(directory, name, {"interactions": interactions, "items": items}, source="test")
    return load_dataset(name, directory)


def synthetic_service(
    directory: Path, *, items: int, users: int = 60, interactions: int = 2400, seed: int = 5, name: str = "synth"
) -> PageService:
    """A PageService over a synthetic dataset written to ``directory`` (its models trained on first use)."""
    config = SynthConfig(users=users, items=items, interactions=interactions, seed=seed)
    write_dataset(directory, name, synthesize(config), source="test")
    return PageService(name, directory, params=SMALL_MODELS)


# -- a page to title ------------------------------------------------------------------------------

CATALOGUE = ["Alien", "Aliens", "Star Wars", "The Godfather", "Toy Story", "Heat"]


def page_item(item_id: int, title: str, genres: tuple[str, ...], year: int = 1986) -> PageItem:
    return PageItem(item_id, title, year, genres, 0.9, 0.9, 0.5, 0.0, 1.0, False)


def make_page() -> Page:
    """Two rows: "Because you watched Alien" (Aliens, Star Wars) and "Comedy for you" (Toy Story)."""
    rows = (
        PageRow(
            0, "carousel", 3, None, "because_you_watched:1", "Because you watched Alien",
            RowReason("because_you_watched", "ease", anchor_item=1, anchor_title="Alien"),
            (page_item(2, "Aliens", ("Action", "Sci-Fi")), page_item(5, "Star Wars", ("Sci-Fi",), 1977)), 1.0,
        ),
        PageRow(
            1, "carousel", 3, None, "genre:Comedy", "Comedy for you", RowReason("genre", "ease", genres=("Comedy",)),
            (page_item(7, "Toy Story", ("Animation", "Comedy"), 1995),), 0.85,
        ),
    )  # fmt: skip
    return Page(1, "test", rows, SolverReport(optimizer="ilp", status="optimal", objective=1.0))


FACTS = TitleFacts.of(make_page().rows[0])  # the facts of the "Because you watched Alien" row


def pages_report() -> PagesReport:
    """A hand-made ``evaluate-pages`` report: 5 users, the three optimizers; the dashboard test saves it."""

    def result(optimizer: str, objective: float, hit: float, relaxed: int) -> OptimizerPages:
        return OptimizerPages(
            optimizer=optimizer, attention_relevance=0.8, hit=hit, carousel_ndcg=0.1, expected_good_picks=0.12,
            intra_row_diversity=0.7, genres_covered=9.0, novelty=3.0, duplicates=0.0, items=33.0, objective=objective,
            relaxed_pages=relaxed, catalog_coverage=0.4, exposure_gini=0.6,
            intervals={"hit": (hit - 0.1, hit + 0.1), "carousel_ndcg": (0.05, 0.15), "expected_good_picks": (0.1, 0.14)},
            rows_out_of_order=0.0, best_row_on_top=0.8,
        )  # fmt: skip

    return PagesReport(
        dataset="synth",
        layout="Default streaming page",
        users=5,
        seconds=2.34,
        optimizers=(result("ilp", 2.0, 0.6, 0), result("greedy", 1.5, 0.4, 2), result("mmr", 1.25, 0.2, 1)),
        relevance_only=result("relevance_only", 2.5, 0.7, 0),
        ilp_vs_greedy=IlpVersusGreedy(users_ilp_at_least_greedy=5, mean_objective_gain=0.5, statuses={"optimal": 5}),
    )


# -- rendered cards and saved reports -------------------------------------------------------------


def card_item(item_id: int, title: str = "Heat (1995)", relevance: float = 0.8) -> PageItem:
    return PageItem(item_id, title, 1995, ("Action", "Crime"), 0.9, relevance, 0.6, 0.06, 0.5, False)


def card_row(kind: str, items: int, *, title: str = "Top picks for you", columns: int | None = None, tile: int = 0):
    reason = RowReason("because_you_watched", "ease", anchor_item=9, anchor_title="Alien (1979)")
    cards = tuple(card_item(100 + i) for i in range(items))
    return PageRow(tile, kind, items, columns, f"row{tile}", title, reason, cards, 1.0)


def cards_page(*rows: PageRow) -> Page:
    return Page(5, "test", rows, SolverReport("ilp", "optimal", 1.0))


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
