"""Full ranking: where each held-out item lands among all items the user has not seen."""

from __future__ import annotations

import numpy as np

from pagegen.evaluation.metrics import ndcg_at_k


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of ``targets[u]`` in ``scores[u]`` (seen items already set to −inf).

    Items tied with the target count as ranked above it: a model that gives everything the same
    score cannot look good.
    """
    target_scores = scores[np.arange(len(targets)), targets]
    above = (scores > target_scores[:, None]).sum(axis=1)
    ties = (scores == target_scores[:, None]).sum(axis=1) - 1
    return above + ties + 1


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's ``k`` best scores, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def hide_seen(scores: np.ndarray, histories: list[np.ndarray]) -> np.ndarray:
    """Set each row's already-seen items to −inf, in place, so they cannot be ranked."""
    for row, history in enumerate(histories):
        scores[row, history] = -np.inf
    return scores


def validation_ndcg(scores: np.ndarray, histories: list[np.ndarray], targets: np.ndarray, k: int = 10) -> float:
    """NDCG@k of held-out ``targets`` under full ranking, seen items hidden: what tuning maximizes."""
    return ndcg_at_k(target_ranks(hide_seen(scores, histories), targets), k)
