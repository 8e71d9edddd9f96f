"""The numbers behind the Compare and Insights pages, as polars frames, and their Altair charts.

Frames come from pages and saved reports only, so they are tested without Streamlit; charts are thin
encodings of those frames.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

from pagegen.batch.summary import ExportSummary
from pagegen.evaluation.pages import PAGES_COLUMNS, PagesReport
from pagegen.evaluation.protocol import EvaluationReport
from pagegen.evaluation.scenarios import SCENARIO_COLUMNS, ScenarioReport
from pagegen.metrics import page_metrics, row_diversity
from pagegen.optimizer import Page
from pagegen.rows import ItemFacts

SWEEP_SHARES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)  # the diversity slider's values the trade-off chart visits
PAGE_METRIC_COLUMNS = tuple(c for c in PAGES_COLUMNS if c != "relaxed_pages")  # the optimizer chart's table


def only_on_first(first: Page, second: Page) -> frozenset[int]:
    """Items ``first`` shows that ``second`` does not: the compare view outlines them."""
    return frozenset(first.item_ids) - frozenset(second.item_ids)


def metrics_table(pages: Mapping[str, tuple[Page, int | None]], item_share: dict[int, float]) -> pl.DataFrame:
    """One row per page metric, one column per named page (each page given with its held-out item)."""
    columns: dict[str, list[Any]] = {"metric": []}
    for name, (page, held_out) in pages.items():
        values = dataclasses.asdict(page_metrics(page, held_out=held_out, item_share=item_share))
        values = {"objective": page.report.objective, **values}
        columns["metric"] = list(values)
        columns[name] = [round(float(v), 3) for v in values.values()]
    return pl.DataFrame(columns)


def genre_mix(page: Page, history: Sequence[ItemFacts]) -> pl.DataFrame:
    """Each genre's share of the page's cards and of the user's history (genre, where, share)."""
    frames = []
    for where, genre_lists in (
        ("page", [i.genres for r in page.rows for i in r.items]),
        ("history", [h.genres for h in history]),
    ):
        counts = Counter(g for genres in genre_lists for g in genres)
        total = sum(counts.values()) or 1
        frames.append(
            pl.DataFrame(
                {"genre": list(counts), "where": [where] * len(counts), "share": [c / total for c in counts.values()]},
                schema={"genre": pl.String, "where": pl.String, "share": pl.Float64},
            )
        )
    return pl.concat(frames).sort("genre", "where")


def row_stats(page: Page) -> pl.DataFrame:
    """Per row: its title, type, mean personal relevance of its cards and its genre diversity."""
    return pl.DataFrame(
        {
            "position": [index + 1 for index in range(len(page.rows))],
            "row": [row.title for row in page.rows],
            "type": [row.reason.row_type for row in page.rows],
            "relevance": [sum(i.relevance for i in row.items) / len(row.items) for row in page.rows],
            "diversity": [row_diversity(row) for row in page.rows],
        },
        schema={
            "position": pl.Int64,
            "row": pl.String,
            "type": pl.String,
            "relevance": pl.Float64,
            "diversity": pl.Float64,
        },
    )


def diversity_sweep(
    page_at: Callable[[float], Page],
    current: float,
    item_share: dict[int, float],
    shares: Sequence[float] = SWEEP_SHARES,
) -> pl.DataFrame:
    """Relevance and diversity of the page at each max-genre-share value (``page_at`` builds it); the
    current slider value is always visited and marked."""
    rows = []
    for share in sorted({*shares, current}):
        page = page_at(share)
        metrics = page_metrics(page, held_out=None, item_share=item_share)
        rows.append(
            {
                "max_genre_share": share,
                "relevance": metrics.attention_relevance,
                "diversity": metrics.intra_row_diversity,
                "genres_covered": metrics.genres_covered,
                "current": share == current,
            }
        )
    return pl.DataFrame(rows)


def optimizer_table(report: PagesReport) -> pl.DataFrame:
    """The saved ``evaluate-pages`` report as one row per optimizer, and the relevance-only page."""
    results = (*report.optimizers, report.relevance_only)
    return pl.DataFrame(
        {
            "optimizer": [r.optimizer for r in results],
            **{c: [getattr(r, c) for r in results] for c in PAGE_METRIC_COLUMNS},
        }
    )


def reliability_table(report: PagesReport) -> pl.DataFrame:
    """The ILP pages' calibration: users in groups by the expected good picks their page predicts, each
    group's mean predicted against its mean observed carousel NDCG (the held-out item's examination)."""
    groups = report.result("ilp").reliability if report.optimizers else ()
    return pl.DataFrame(
        {
            "predicted": [g[0] for g in groups],
            "observed": [g[1] for g in groups],
            "users": [g[2] for g in groups],
        },
        schema={"predicted": pl.Float64, "observed": pl.Float64, "users": pl.Int64},
    )


def scenario_table(report: ScenarioReport) -> pl.DataFrame:
    """The saved scenario benchmark as one row per scenario and optimizer (``optimal_share`` is null
    for the heuristics)."""
    rows = [
        {"scenario": s.scenario, "optimizer": r.optimizer, **{c.field: getattr(r, c.field) for c in SCENARIO_COLUMNS}}
        for s in report.scenarios
        for r in s.optimizers
    ]
    schema = {"scenario": pl.String, "optimizer": pl.String}
    schema |= {c.field: pl.Int64 if c.format == "d" else pl.Float64 for c in SCENARIO_COLUMNS}
    return pl.DataFrame(rows, schema=schema)


def generator_table(reports: Sequence[EvaluationReport]) -> pl.DataFrame:
    """The saved ``evaluate`` reports as one row per generator: its ranking metrics and timings."""
    rows = [
        {
            "model": r.model,
            **{k: float(v) for k, v in r.metrics.items()},
            "fit_seconds": r.fit_seconds,
            "score_seconds": r.score_seconds,
        }
        for r in reports
    ]
    return pl.DataFrame(rows)


# -- charts -----------------------------------------------------------------------------------------
def genre_mix_chart(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of genre labels"),
            y=alt.Y("genre:N", sort="-x", title=None),
            yOffset="where:N",
            color=alt.Color("where:N", title=None),
            tooltip=["genre", "where", alt.Tooltip("share:Q", format=".1%")],
        )
    )


def row_stats_chart(frame: pl.DataFrame) -> alt.Chart:
    long = frame.unpivot(index=["position", "row", "type"], on=["relevance", "diversity"], variable_name="measure")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", scale=alt.Scale(domain=[0, 1]), title=None),
            y=alt.Y("row:N", sort=alt.SortField("position"), title=None),
            color=alt.Color("measure:N", legend=None),
            column=alt.Column("measure:N", title=None),
            tooltip=["row", "type", "measure", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(width=170)
    )


def sweep_chart(frame: pl.DataFrame) -> alt.LayerChart:
    base = alt.Chart(frame).encode(
        x=alt.X("diversity:Q", title="intra-row diversity", scale=alt.Scale(zero=False)),
        y=alt.Y("relevance:Q", title="attention-weighted relevance", scale=alt.Scale(zero=False)),
        tooltip=[
            "max_genre_share",
            alt.Tooltip("relevance:Q", format=".3f"),
            alt.Tooltip("diversity:Q", format=".3f"),
            "genres_covered",
        ],
    )
    line = base.mark_line(point=True, color="#64748b").encode(order="max_genre_share:Q")
    current = base.transform_filter(alt.datum.current).mark_point(size=220, filled=True, color="#f59e0b")
    labels = base.mark_text(dy=-10, fontSize=10).encode(text=alt.Text("max_genre_share:Q", format=".0%"))
    return line + current + labels


def optimizer_chart(frame: pl.DataFrame) -> alt.Chart:
    long = frame.unpivot(
        index="optimizer", on=["expected_good_picks", "hit", "carousel_ndcg", "intra_row_diversity", "catalog_coverage"]
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("optimizer:N", title=None),
            y=alt.Y("value:Q", title=None),
            color="optimizer:N",
            column=alt.Column("variable:N", title=None),
            tooltip=["optimizer", "variable", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=110)
    )


def reliability_chart(frame: pl.DataFrame) -> alt.LayerChart:
    """Predicted against observed, with the diagonal a calibrated page lies on."""
    top = max([*frame["predicted"].to_list(), *frame["observed"].to_list(), 0.01])
    diagonal = alt.Chart(pl.DataFrame({"predicted": [0.0, top], "observed": [0.0, top]})).mark_line(
        color="#94a3b8", strokeDash=[4, 4]
    )
    points = (
        alt.Chart(frame)
        .mark_line(point=True, color="#2563eb")
        .encode(
            x=alt.X("predicted:Q", title="expected good picks seen (predicted)"),
            y=alt.Y("observed:Q", title="held-out item seen (observed)"),
            tooltip=[alt.Tooltip("predicted:Q", format=".3f"), alt.Tooltip("observed:Q", format=".3f"), "users"],
        )
    )
    return diagonal.encode(x="predicted:Q", y="observed:Q") + points


def genres_covered_chart(summary: ExportSummary) -> alt.Chart:
    """How many of the export's pages cover each number of genres."""
    frame = pl.DataFrame(
        {"genres": [int(g) for g in summary.genres_covered], "pages": list(summary.genres_covered.values())}
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("genres:O", title="genres a page covers"),
            y=alt.Y("pages:Q", title="pages"),
            tooltip=["genres", "pages"],
        )
    )
