"""Page-level metrics: how good one page is for its user, and how pages spread exposure over the
catalogue across users.

The held-out item is looked for with the same browsing model the optimizer maximises
(``pagegen.layout.browsing``): the page's carousel NDCG is the examination probability of the card
showing the held-out next item (DCG with the browsing model's discount; the ideal page shows it on the
first card, examined with probability 1), 0 when the page does not show it. Its mean over users is
what the pages' expected good picks (Σ examination × the ranker's probability) predict, when the ranker
is calibrated.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from pagegen.optimizer import Page, PageRow
from pagegen.seeding import as_generator


@dataclass(frozen=True)
class PageMetrics:
    attention_relevance: float  # attention-weighted mean personal relevance of the cards
    hit: bool  # the held-out item is on the page
    carousel_ndcg: float  # the browsing model's P(the held-out item's card is looked at); 0 when not shown
    expected_good_picks: float  # Σ examination × P(next item): what the page predicts carousel_ndcg to be
    intra_row_diversity: float  # mean pairwise genre distance (1 − Jaccard) within rows, averaged over rows
    genres_covered: int
    novelty: float  # mean self-information −log2(share of users who watched the item)
    duplicates: int  # cards showing an item already shown higher on the page
    items: int


def page_metrics(page: Page, *, held_out: int | None, item_share: dict[int, float]) -> PageMetrics:
    """Metrics of one page; ``item_share`` maps item ids to the share of users who interacted with them."""
    cards = [item for row in page.rows for item in row.items]
    attention = sum(item.attention for item in cards)
    reading_order = [item.item_id for item in cards]
    examined = max((item.attention for item in cards if item.item_id == held_out), default=None)
    return PageMetrics(
        attention_relevance=sum(item.attention * item.relevance for item in cards) / attention if attention else 0.0,
        hit=examined is not None,
        carousel_ndcg=examined or 0.0,
        expected_good_picks=page.expected_good_picks,
        intra_row_diversity=_mean([row_diversity(row) for row in page.rows]),
        genres_covered=len({g for item in cards for g in item.genres}),
        novelty=_mean([-math.log2(max(item_share.get(item.item_id, 0.0), 1e-9)) for item in cards]),
        duplicates=len(reading_order) - len(set(reading_order)),
        items=len(cards),
    )


def catalog_coverage(pages: Iterable[Sequence[int]], catalogue_size: int) -> float:
    """Share of the catalogue shown on at least one page (each page given as its item ids)."""
    shown = {item for page in pages for item in page}
    return len(shown) / catalogue_size if catalogue_size else 0.0


def exposure_gini(pages: Iterable[Sequence[int]], catalogue_size: int) -> float:
    """Gini coefficient of how often each catalogue item is shown (0 even exposure, 1 one item gets
    all), each page given as its item ids."""
    return gini_of_counts(list(Counter(item for page in pages for item in page).values()), catalogue_size)


def gini_of_counts(counts: Sequence[int] | np.ndarray, catalogue_size: int) -> float:
    """The exposure Gini from each shown item's count; the catalogue's other items count as shown 0 times."""
    exposure = np.zeros(catalogue_size)
    exposure[: len(counts)] = counts
    exposure.sort()
    total = exposure.sum()
    if total == 0:
        return 0.0
    ranks = np.arange(1, catalogue_size + 1)
    return float((2 * ranks - catalogue_size - 1) @ exposure / (catalogue_size * total))


def bootstrap_interval(
    values: Sequence[float], *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (resampled with a fixed seed, so the
    same values always give the same interval)."""
    data = np.asarray(values, dtype=np.float64)
    if not len(data):
        return (0.0, 0.0)
    means = as_generator(seed).choice(data, size=(resamples, len(data)), replace=True).mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (round(float(low), 6), round(float(high), 6))


def row_diversity(row: PageRow) -> float:
    """Mean pairwise genre distance (1 − Jaccard) of the row's items."""
    pairs = list(combinations([set(item.genres) for item in row.items], 2))
    if not pairs:
        return 0.0
    return _mean([1 - (len(a & b) / len(a | b) if a | b else 1.0) for a, b in pairs])


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


__all__ = [
    "PageMetrics",
    "bootstrap_interval",
    "catalog_coverage",
    "exposure_gini",
    "gini_of_counts",
    "page_metrics",
    "row_diversity",
]
