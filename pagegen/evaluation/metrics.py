"""Ranking metrics for full-ranking evaluation, as pure functions of ranks and top-k lists.

A rank is 1-based: one plus the number of other items scored at least as high as the target
(ties count against it; see ``ranking.target_ranks``).
"""

from __future__ import annotations

import numpy as np


def recall_at_k(ranks: np.ndarray, k: int) -> float:
    """Share of users whose single held-out item is in their top ``k`` (= hit rate for one target)."""
    return float(np.mean(ranks <= k)) if len(ranks) else 0.0


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """Mean of 1 / log2(rank + 1) over users whose held-out item is in the top ``k`` (ideal DCG is 1)."""
    if not len(ranks):
        return 0.0
    gains = np.where(ranks <= k, 1.0 / np.log2(ranks.astype(np.float64) + 1.0), 0.0)
    return float(gains.mean())


def mrr_at_k(ranks: np.ndarray, k: int) -> float:
    if not len(ranks):
        return 0.0
    return float(np.where(ranks <= k, 1.0 / ranks.astype(np.float64), 0.0).mean())


def set_recall_at_k(scores: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of ``targets`` (indices into ``scores``) that rank in the top ``k``, for one user.

    Ties count against the target: an item scored equal to it ranks above it, so a generator that
    cannot tell items apart (popularity on never-seen items) finds nothing.
    """
    if not len(targets):
        return 0.0
    target_scores = scores[targets]
    ranks = (scores[None, :] >= target_scores[:, None]).sum(axis=1)  # counts the target itself
    return float(np.mean(ranks <= k))


def catalog_coverage(top_k: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one user's top-k list."""
    return len(np.unique(top_k)) / n_items if n_items else 0.0


def popularity_percentiles(counts: np.ndarray) -> np.ndarray:
    """Each item's popularity percentile in [0, 1]: the share of items strictly less popular."""
    order = np.sort(counts)
    return np.searchsorted(order, counts, side="left") / max(len(counts) - 1, 1)
