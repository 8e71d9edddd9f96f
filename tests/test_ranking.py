"""Metric functions against values computed by hand."""

import math

import numpy as np
import pytest

from pagegen.ranking import (
    catalog_coverage,
    mrr_at_k,
    ndcg_at_k,
    popularity_percentiles,
    recall_at_k,
    set_recall_at_k,
    target_ranks,
    top_k,
)

RANKS = np.array([1, 3, 11, 20])


def test_recall():
    assert recall_at_k(RANKS, 10) == pytest.approx(2 / 4)
    assert recall_at_k(RANKS, 20) == pytest.approx(4 / 4)


def test_ndcg():
    assert ndcg_at_k(RANKS, 10) == pytest.approx((1 / math.log2(2) + 1 / math.log2(4)) / 4)
    assert ndcg_at_k(RANKS, 20) == pytest.approx((1 / 1 + 1 / 2 + 1 / math.log2(12) + 1 / math.log2(21)) / 4)


def test_mrr():
    assert mrr_at_k(RANKS, 10) == pytest.approx((1 / 1 + 1 / 3) / 4)


def test_empty_inputs_are_zero():
    empty = np.array([], dtype=np.int64)
    assert recall_at_k(empty, 10) == ndcg_at_k(empty, 10) == mrr_at_k(empty, 10) == 0.0


def test_target_ranks_count_ties_against_the_target():
    scores = np.array([[0.9, 0.5, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0]])
    assert target_ranks(scores, np.array([1, 0])).tolist() == [3, 4]  # 0.9 above; one tie; all tied


def test_top_k_best_first():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]
    assert top_k(scores, 10).shape == (1, 4)


def test_set_recall():
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.0])
    assert set_recall_at_k(scores, np.array([0, 3]), 2) == pytest.approx(1 / 2)  # 0 is first, 3 is third
    assert set_recall_at_k(scores, np.array([0, 3]), 3) == pytest.approx(2 / 2)
    assert set_recall_at_k(np.zeros(5), np.array([1]), 4) == 0.0  # all tied: ranked last


def test_coverage_and_popularity_percentiles():
    assert catalog_coverage(np.array([[0, 1], [1, 2]]), 10) == pytest.approx(3 / 10)
    assert popularity_percentiles(np.array([5, 0, 5, 9])).tolist() == pytest.approx([1 / 3, 0 / 3, 1 / 3, 3 / 3])
