"""Shared factories: a page service over a small synthetic dataset, with models small enough to train
in seconds, and hand-made reports."""

from __future__ import annotations

from pathlib import Path

from pagegen.data import SynthConfig, synthesize, write_dataset
from pagegen.evaluation.pages import IlpVersusGreedy, OptimizerPages, PagesReport
from pagegen.serving import PageService

SMALL_SASREC = {"hidden": 16, "layers": 1, "heads": 1, "max_len": 20, "max_epochs": 2}
SMALL_MODELS = {"sasrec": SMALL_SASREC, "ease": {"l2": 10.0}}


def synthetic_service(
    directory: Path, *, items: int, users: int = 60, interactions: int = 2400, seed: int = 5, name: str = "synth"
) -> PageService:
    """A PageService over a synthetic dataset written to ``directory`` (its models trained on first use)."""
    config = SynthConfig(users=users, items=items, interactions=interactions, seed=seed)
    write_dataset(directory, name, synthesize(config), source="test")
    return PageService(name, directory, params=SMALL_MODELS)


def pages_report() -> PagesReport:
    """A hand-made ``evaluate-pages`` report: 5 users, the three optimizers; the dashboard test saves it."""

    def result(optimizer: str, objective: float, hit: float, relaxed: int) -> OptimizerPages:
        return OptimizerPages(
            optimizer=optimizer, attention_relevance=0.8, hit=hit, carousel_ndcg=0.1, intra_row_diversity=0.7,
            genres_covered=9.0, novelty=3.0, duplicates=0.0, items=33.0, objective=objective, relaxed_pages=relaxed,
            catalog_coverage=0.4, exposure_gini=0.6,
        )  # fmt: skip

    return PagesReport(
        dataset="synth",
        layout="Default streaming page",
        users=5,
        seconds=2.34,
        optimizers=(result("ilp", 2.0, 0.6, 0), result("greedy", 1.5, 0.4, 2), result("mmr", 1.25, 0.2, 1)),
        top_picks_hit=0.4,
        ilp_vs_greedy=IlpVersusGreedy(users_ilp_at_least_greedy=5, mean_objective_gain=0.5, statuses={"optimal": 5}),
    )
