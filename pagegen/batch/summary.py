"""An export summed up over all its users: what `pagegen pages summary` prints and Insights shows.

Everything is aggregated by polars over the Parquet partitions (lazily, a column at a time), so a
summary of 100 000 pages never holds them as Python objects. An export that was stopped part-way is
summed up over the partitions it wrote, and says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pagegen.batch.export import EXPORTS, MANIFEST, PAGE_SCHEMA, PAGES, ExportMismatchError, read_manifest
from pagegen.metrics import gini_of_counts


@dataclass(frozen=True)
class ExportSummary:
    path: str
    dataset: str
    layout: str
    optimizer: str
    backend: str
    complete: bool  # false: the export stopped part-way; the figures are over the pages written
    users: int  # pages summed up
    expected_users: int
    partitions: int
    expected_partitions: int
    hit_rate: float  # pages showing the user's held-out next item
    carousel_ndcg: float
    attention_relevance: float
    intra_row_diversity: float
    novelty: float
    duplicate_pages: float  # share of pages showing an item twice
    catalogue_coverage: float  # share of the catalogue on at least one page
    exposure_gini: float  # over the whole catalogue; items never shown count as shown 0 times
    genres_covered: dict[str, int]  # genres a page covers → pages
    title_sources: dict[str, float]  # where row titles came from → share of rows
    solver_statuses: dict[str, int]
    pages_relaxing_a_rule: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def find_exports(data_dir: Path, dataset: str) -> list[Path]:
    """The exports of ``dataset`` under its data folder, the most recently written first."""
    folder = data_dir / dataset / EXPORTS
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.is_dir() and read_manifest(path) is not None]
    return sorted(found, key=lambda path: (-(path / MANIFEST).stat().st_mtime_ns, path.name))


def summarize_export(out: Path) -> ExportSummary:
    """``out``'s pages summed up (see the module's docstring)."""
    manifest = read_manifest(out)
    if manifest is None:
        raise ExportMismatchError(f"{out} holds no pagegen export (no readable {MANIFEST})")
    parts = sorted((out / PAGES).glob("part-*.parquet"))
    if not parts:
        raise ExportMismatchError(f"{out} holds no exported pages yet: run its export again to write them")
    pages = pl.scan_parquet(parts, schema=PAGE_SCHEMA)
    solver = pl.col("solver").struct
    head = pages.select(
        users=pl.len(),
        hit_rate=pl.col("hit").mean(),
        carousel_ndcg=pl.col("carousel_ndcg").mean(),
        attention_relevance=pl.col("attention_relevance").mean(),
        intra_row_diversity=pl.col("intra_row_diversity").mean(),
        novelty=pl.col("novelty").mean(),
        duplicate_pages=(pl.col("duplicates") > 0).mean(),
        relaxing=(solver.field("relaxations").list.len() > 0).sum(),
    )
    rows = pages.select(pl.col("rows").explode()).select(pl.col("rows").struct.field("title_source", "items"))
    shown_items = rows.select(pl.col("items").explode().struct.field("item_id")).drop_nulls().group_by("item_id").len()
    # One pass over the partitions: collect_all reads the columns the five queries share once.
    head, sources, shown, genres, statuses = pl.collect_all(
        [
            head,
            rows.group_by("title_source").len().drop_nulls(),
            shown_items,
            pages.group_by("genres_covered").len().sort("genres_covered"),
            pages.group_by(status=solver.field("status")).len().sort("status"),
        ]
    )
    catalogue = int(manifest["catalogue_items"])
    figures = head.row(0, named=True)
    row_count = int(sources["len"].sum())
    return ExportSummary(
        path=str(out),
        dataset=manifest["dataset"],
        layout=manifest["layout"]["name"],
        optimizer=manifest["optimizer"],
        backend=manifest["backend"],
        complete=bool(manifest.get("complete")) and len(parts) == manifest["partitions"],
        users=int(figures["users"]),
        expected_users=int(manifest["users"]["count"]),
        partitions=len(parts),
        expected_partitions=int(manifest["partitions"]),
        **{key: round(float(figures[key] or 0.0), 4) for key in _MEANS},
        catalogue_coverage=round(len(shown) / catalogue, 4) if catalogue else 0.0,
        exposure_gini=round(gini_of_counts(shown["len"].to_numpy(), catalogue), 4),
        genres_covered={str(g): int(n) for g, n in genres.iter_rows()},
        title_sources={s: round(n / row_count, 4) for s, n in sources.sort("title_source").iter_rows()},
        solver_statuses={s: int(n) for s, n in statuses.iter_rows()},
        pages_relaxing_a_rule=int(figures["relaxing"]),
    )


_MEANS = ("hit_rate", "carousel_ndcg", "attention_relevance", "intra_row_diversity", "novelty", "duplicate_pages")


def format_export_summary(summary: ExportSummary) -> str:
    """The summary as a few lines of text (the CLI's, and the dashboard's caption)."""
    state = (
        "complete"
        if summary.complete
        else f"INCOMPLETE: {summary.partitions} of {summary.expected_partitions} partitions; rerun the export to finish"
    )
    genres = ", ".join(f"{g}: {n}" for g, n in summary.genres_covered.items())
    sources = ", ".join(f"{s} {share:.1%}" for s, share in summary.title_sources.items())
    return "\n".join(
        [
            f"{summary.dataset} · {summary.layout} · {summary.optimizer} · titles {summary.backend} — "
            f"{summary.users} of {summary.expected_users} pages ({state}) at {summary.path}",
            f"hit rate {summary.hit_rate:.3f}, carousel NDCG {summary.carousel_ndcg:.3f}, attention-weighted "
            f"relevance {summary.attention_relevance:.3f}, intra-row diversity {summary.intra_row_diversity:.3f}, "
            f"novelty {summary.novelty:.2f}",
            f"catalogue coverage {summary.catalogue_coverage:.1%}, exposure Gini {summary.exposure_gini:.3f}, "
            f"pages showing an item twice {summary.duplicate_pages:.1%}, pages relaxing a rule "
            f"{summary.pages_relaxing_a_rule}",
            f"genres covered (genres: pages) {genres}",
            f"titles by source: {sources}; solver {summary.solver_statuses}",
        ]
    )
