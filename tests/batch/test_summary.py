"""An export summed up: every figure checked against a three-user export written by hand."""

import json
import os
from pathlib import Path

import polars as pl
import pytest

from pagegen import cli
from pagegen.batch.export import EXPORTS, MANIFEST, PAGE_SCHEMA, ExportMismatchError, partition_path
from pagegen.batch.summary import find_exports, format_export_summary, summarize_export


def _row(source: str, items: list[int]) -> dict:
    return {
        "tile": 0, "kind": "carousel", "slots": len(items), "row_id": "r", "row_type": "top_picks", "source": "ease",
        "anchor_item": None, "genres": [], "title": "t", "title_source": source, "title_note": "", "attention": 1.0,
        "items": [
            {"item_id": i, "score": 1.0, "relevance": 1.0, "popularity": 0.5, "popularity_bias": 0.0,
             "attention": 1.0, "is_new": False, "why": ""}
            for i in items
        ],
    }  # fmt: skip


def _page(user: int, hit: bool, ndcg: float, relevance: float, diversity: float, genres: int, novelty: float,
          duplicates: int, rows: list[dict], status: str, relaxed: bool) -> dict:  # fmt: skip
    relaxations = [{"constraint": "min_new_items", "asked": 10.0, "got": 8.0, "note": ""}] if relaxed else []
    return {
        "user_id": user, "held_out_item": 1, "hit": hit, "carousel_ndcg": ndcg, "attention_relevance": relevance,
        "intra_row_diversity": diversity, "genres_covered": genres, "novelty": novelty, "duplicates": duplicates,
        "items": sum(len(r["items"]) for r in rows), "rows": rows,
        "solver": {"optimizer": "ilp", "status": status, "objective": 1.0, "best_bound": 1.0, "gap": 0.0,
                   "message": "", "relaxations": relaxations, "baselines": []},
    }  # fmt: skip


def _write_export(out: Path, *, partitions: int = 2, complete: bool = True) -> Path:
    """Users 1 and 2 in partition 0, user 3 in partition 1; a catalogue of 6 items."""
    first = [
        _page(1, True, 0.5, 0.8, 0.6, 3, 2.0, 0, [_row("model", [1, 2]), _row("template", [3])], "optimal", False),
        _page(2, False, 0.0, 0.6, 0.4, 3, 3.0, 1, [_row("model", [1, 1])], "optimal", True),
    ]
    second = [_page(3, True, 1.0, 1.0, 0.5, 5, 1.0, 0, [_row("cache", [1, 4])], "unproven", False)]
    for index, records in enumerate([first, second]):
        partition_path(out, index).parent.mkdir(parents=True, exist_ok=True)
        pl.from_dicts(records, schema=PAGE_SCHEMA).write_parquet(partition_path(out, index))
    manifest = {
        "dataset": "tiny", "catalogue_items": 6, "layout": {"name": "Default streaming page"}, "optimizer": "ilp",
        "backend": "template", "users": {"count": 3, "digest": "x"}, "partitions": partitions, "complete": complete,
    }  # fmt: skip
    (out / MANIFEST).write_text(json.dumps(manifest))
    return out


def test_every_figure_matches_the_hand_count(tmp_path):
    summary = summarize_export(_write_export(tmp_path / "e"))
    # Item 1 is shown 4 times (twice on user 2's page), items 2, 3 and 4 once, items 5 and 6 never:
    # coverage 4 / 6; Gini over the sorted counts 0 0 1 1 1 4 (total 7) with weights 2r − 7 = −5 −3 −1 1 3 5:
    # (−1 + 1 + 3 + 20) / (6 · 7) = 23 / 42.
    assert summary.to_dict() == {
        "path": str(tmp_path / "e"), "dataset": "tiny", "layout": "Default streaming page", "optimizer": "ilp",
        "backend": "template", "complete": True, "users": 3, "expected_users": 3, "partitions": 2,
        "expected_partitions": 2, "hit_rate": 0.6667, "carousel_ndcg": 0.5, "attention_relevance": 0.8,
        "intra_row_diversity": 0.5, "novelty": 2.0, "duplicate_pages": 0.3333, "catalogue_coverage": 0.6667,
        "exposure_gini": round(23 / 42, 4), "genres_covered": {"3": 2, "5": 1},
        "title_sources": {"cache": 0.25, "model": 0.5, "template": 0.25},
        "solver_statuses": {"optimal": 2, "unproven": 1}, "pages_relaxing_a_rule": 1,
    }  # fmt: skip
    text = format_export_summary(summary)
    assert text.splitlines()[0] == (
        f"tiny · Default streaming page · ilp · titles template — 3 of 3 pages (complete) at {tmp_path / 'e'}"
    )
    assert "exposure Gini 0.548" in text and "genres covered (genres: pages) 3: 2, 5: 1" in text


def test_an_export_stopped_part_way_is_summed_up_over_what_it_wrote_and_says_so(tmp_path):
    summary = summarize_export(_write_export(tmp_path / "e", partitions=3, complete=False))
    assert (summary.complete, summary.partitions, summary.expected_partitions, summary.users) == (False, 2, 3, 3)
    assert "INCOMPLETE: 2 of 3 partitions; rerun the export to finish" in format_export_summary(summary)


def test_a_folder_without_an_export_or_its_pages_is_named(tmp_path):
    with pytest.raises(ExportMismatchError, match=f"{tmp_path} holds no pagegen export"):
        summarize_export(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"partitions": 1}))
    with pytest.raises(ExportMismatchError, match="holds no exported pages yet"):
        summarize_export(tmp_path)


def test_exports_are_found_newest_first_and_the_cli_sums_up_the_newest(tmp_path, capsys):
    exports = tmp_path / "tiny" / EXPORTS
    older, newer = _write_export(exports / "kids"), _write_export(exports / "default")
    (exports / "not-an-export").mkdir()
    os.utime(older / MANIFEST, ns=(1_000_000_000, 1_000_000_000))
    assert find_exports(tmp_path, "tiny") == [newer, older]
    assert find_exports(tmp_path, "other") == []

    assert cli.main(["--data-dir", str(tmp_path), "pages", "summary", "--dataset", "tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(newer)
    assert cli.main(["--data-dir", str(tmp_path), "pages", "summary", "--dataset", "other"]) == 2
    assert "no export of other yet: make one with `pagegen pages export --dataset other`" in capsys.readouterr().err
