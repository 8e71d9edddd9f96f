"""Page metrics on a hand-made page, expected values written as the arithmetic that makes them."""

import math

import pytest

from pagegen.metrics import catalog_coverage, exposure_gini, page_metrics
from pagegen.optimizer import Page, PageItem, PageRow, SolverReport
from pagegen.rows import RowReason


def item(item_id, genres, attention, relevance=1.0):
    return PageItem(item_id, f"Item {item_id}", 2000, genres, 1.0, relevance, 0.5, 0.0, attention, False)


def page(*rows):
    return Page(
        user_id=1,
        layout="test",
        rows=tuple(
            PageRow(t, "carousel", 3, None, f"row{t}", f"Row {t}", RowReason("genre", "test"), items, 1.0)
            for t, items in enumerate(rows)
        ),
        report=SolverReport(optimizer="ilp", status="optimal", objective=0.0),
    )


HAND_MADE = page(
    (item(1, ("Drama",), 1.0, 0.8), item(2, ("Drama", "Comedy"), 0.5, 0.4)),
    (item(3, ("Horror",), 0.5, 0.2), item(1, ("Drama",), 0.25, 0.8)),
)


def test_hit_rank_in_reading_order_and_carousel_ndcg():
    metrics = page_metrics(HAND_MADE, held_out=3, item_share={1: 0.5, 2: 0.25, 3: 0.125})
    assert metrics.hit
    assert metrics.carousel_ndcg == pytest.approx(1 / math.log2(3 + 1))  # third card read: rank 2, 1/log2(2 + 2)
    assert page_metrics(HAND_MADE, held_out=99, item_share={}).carousel_ndcg == 0.0


def test_relevance_diversity_coverage_novelty_duplicates():
    metrics = page_metrics(HAND_MADE, held_out=None, item_share={1: 0.5, 2: 0.25, 3: 0.125})
    attention = 1.0 + 0.5 + 0.5 + 0.25
    assert metrics.attention_relevance == pytest.approx((1.0 * 0.8 + 0.5 * 0.4 + 0.5 * 0.2 + 0.25 * 0.8) / attention)
    # row 1: Drama vs Drama+Comedy, Jaccard 1/2; row 2: Horror vs Drama, Jaccard 0
    assert metrics.intra_row_diversity == pytest.approx(((1 - 1 / 2) + (1 - 0)) / 2)
    assert metrics.genres_covered == 3
    assert metrics.novelty == pytest.approx((1 + 2 + 3 + 1) / 4)  # −log2 of 1/2, 1/4, 1/8, 1/2
    assert metrics.duplicates == 1 and metrics.items == 4


def test_catalog_coverage_and_exposure_gini():
    pages = [[1, 2], [1, 3], [1]]
    assert catalog_coverage(pages, 6) == pytest.approx(3 / 6)
    # exposure over six items, sorted: 0, 0, 0, 1, 1, 3 (total 5); Gini = Σ (2i − n − 1) x_i / (n Σ x)
    expected = ((2 * 4 - 7) * 1 + (2 * 5 - 7) * 1 + (2 * 6 - 7) * 3) / (6 * 5)
    assert exposure_gini(pages, 6) == pytest.approx(expected)
    assert exposure_gini([[1], [2], [3]], 3) == pytest.approx(0.0)
