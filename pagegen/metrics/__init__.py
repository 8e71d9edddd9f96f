"""Page-level metrics: how good one page is for its user, and how pages spread exposure over the
catalogue across users.

The held-out item's rank on a page follows the carousel-aware evaluation of Felicioni, Ferrari Dacrema
& Cremonesi (2022): a user scans the page row by row from the top and each row left to right, so an
item's rank is the number of cards before it in that reading order; the page's NDCG is the usual
1 / log2(rank + 1) of the held-out item (0 when it is not on the page).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from pagegen.optimizer import Page, PageRow


@dataclass(frozen=True)
class PageMetrics:
    attention_relevance: float  # attention-weighted mean personal relevance of the cards
    hit: bool  # the held-out item is on the page
    carousel_ndcg: float
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
    rank = reading_order.index(held_out) if held_out in reading_order else None
    return PageMetrics(
        attention_relevance=sum(item.attention * item.relevance for item in cards) / attention if attention else 0.0,
        hit=rank is not None,
        carousel_ndcg=1.0 / math.log2(rank + 2) if rank is not None else 0.0,
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


def row_diversity(row: PageRow) -> float:
    """Mean pairwise genre distance (1 − Jaccard) of the row's items."""
    pairs = list(combinations([set(item.genres) for item in row.items], 2))
    if not pairs:
        return 0.0
    return _mean([1 - (len(a & b) / len(a | b) if a | b else 1.0) for a, b in pairs])


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


__all__ = ["PageMetrics", "catalog_coverage", "exposure_gini", "gini_of_counts", "page_metrics", "row_diversity"]
