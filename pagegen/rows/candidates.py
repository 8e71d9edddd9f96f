"""Candidate rows from generator scores, each with a structured reason.

Every generator's scores are turned into per-user percentiles (0 worst, 1 best) so rows built from
different generators are comparable; the popularity slider then adds β · popularity percentile
(β < 0 favours the long tail). Items the user has seen never appear.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pagegen.data import schema as S
from pagegen.errors import ConfigError
from pagegen.generators.base import Generator
from pagegen.generators.training import TrainingData
from pagegen.ranking import popularity_percentiles

ANCHORS = 3  # "because you watched X" rows, from the most recent distinct items
GENRE_ROWS = 3  # "<genre> for you" rows, for the user's most watched genres
EXPLORE_SHARE = 0.02  # a genre below this share of the history is unexplored
GEM_POPULARITY = 0.5  # hidden gems come from the less popular half of the catalogue
NEW_SHARE = 0.1  # the newest tenth of the catalogue (by first interaction) is "new"
DEFAULT_DEPTH = 40  # candidates per row when the caller does not size rows to a layout


@dataclass(frozen=True)
class RowRules:
    """The layout's rules on a row's items. Rows are built within them, so no rule empties a row later:
    only items of an allowed genre and relevant enough; and, with a genre share below 1, candidates
    taken in rounds of ``tile_slots`` cards that each keep the share (no genre but the row's own on
    more than ``max_genre_share`` of a round), so a row holds several disjoint full tiles' worth of
    cards, best first, and can still fill its tile after other rows take their items."""

    allowed_genres: tuple[str, ...] = ()  # empty: every genre
    min_relevance: float = 0.0  # the user's personal relevance percentile an item must reach
    max_genre_share: float = 1.0
    min_items: int = 0  # the relevance floor gives way (never the genres) when fewer items than this pass
    tile_slots: int = 10  # the cards of the widest tile the rows are for


@dataclass(frozen=True)
class CandidateRows:
    rows: tuple[CandidateRow, ...]
    relevance_floor: float  # the floor the rows were built with: ``min_relevance``, or lower when it gave way


@dataclass(frozen=True)
class RowReason:
    """What a row is about: the facts its title and explanation are built from."""

    row_type: str
    source: str  # the generator (or blend) behind the scores
    anchor_item: int | None = None
    anchor_title: str | None = None
    genres: tuple[str, ...] = ()


@dataclass(frozen=True)
class CandidateRow:
    row_id: str  # stable within a page: row type plus anchor or genre
    reason: RowReason
    items: tuple[int, ...]  # item ids, best first
    scores: tuple[float, ...]  # the row's score in [β, 1 + β] (fit to the row's theme), same order
    relevance: tuple[float, ...]  # the user's personal relevance percentile of each item, same order
    title: str


@dataclass(frozen=True)
class ItemFacts:
    """What a page needs to know of an item beyond its scores: display, genres and coverage facts."""

    title: str
    year: int | None
    genres: tuple[str, ...]
    is_new: bool
    popularity: float  # percentile in the catalogue, 0 least popular


def plain_title(reason: RowReason) -> str:
    """A grounded title from the reason alone: the fallback every language-model title must beat."""
    genre = reason.genres[0] if reason.genres else ""
    titles = {
        "top_picks": "Top picks for you",
        "because_you_watched": f"Because you watched {reason.anchor_title}",
        "up_next": "Up next for you",
        "new_for_you": "New for you",
        "trending": "Trending now",
        "genre": f"{genre} for you",
        "hidden_gems": "Hidden gems",
        "explore": f"Explore {genre}" if genre else "Something different",
    }
    return titles[reason.row_type]


def percentiles(scores: np.ndarray) -> np.ndarray:
    """Each score's rank among the row's scores, scaled to [0, 1]; tied scores share the middle of their
    ranks (a user with one interaction ties most of the catalogue, which must not all rank last)."""
    order = np.sort(scores)
    below = np.searchsorted(order, scores, side="left")
    above = np.searchsorted(order, scores, side="right") - 1
    return ((below + above) / 2 / max(len(scores) - 1, 1)).astype(np.float32)


def with_popularity_bias(scores: np.ndarray, popularity: np.ndarray, beta: float) -> np.ndarray:
    """The popularity slider: score + β · popularity percentile (β < 0 favours the long tail)."""
    return scores + beta * popularity


class RowBuilder:
    """Builds a user's candidate rows from fitted generators over one catalogue."""

    def __init__(self, data: TrainingData, generators: dict[str, Generator], *, per_row: int = DEFAULT_DEPTH) -> None:
        missing = {"ease", "popularity", "trending"} - set(generators)
        if missing:
            raise ConfigError(f"candidate rows need the generators {', '.join(sorted(missing))}")
        self.data, self.generators, self.per_row = data, generators, per_row
        self.personal = "+".join(name for name in ("ease", "sasrec") if name in generators)
        self.popularity = popularity_percentiles(data.item_counts).astype(np.float32)
        self.genres = data.catalogue[S.GENRES].to_list()
        self.titles = data.catalogue[S.TITLE].to_list()
        self.is_new = _newest(data, NEW_SHARE)

    def build(
        self,
        history: np.ndarray,
        *,
        beta: float = 0.0,
        genres: Iterable[str] = (),
        rules: RowRules = RowRules(),
        depth: int | None = None,
    ) -> CandidateRows:
        """Every candidate row for a user with ``history`` (dense item indices, oldest first), each of up
        to ``depth`` items that pass ``rules``; ``genres`` a new user picked come first among the genre
        rows."""
        history = np.asarray(history, dtype=np.int64)
        scores, blend = self._scores(history)
        relevance = percentiles(blend)
        biased = lambda base: with_popularity_bias(base, self.popularity, beta)  # noqa: E731
        showable = self._showable(history, rules.allowed_genres)
        floor = self._relevance_floor(relevance[showable], rules)
        unseen = showable & (relevance >= floor)
        depth = depth or self.per_row
        row = functools.partial(self._row, relevance=relevance, depth=depth, rules=rules)
        rows = [row(RowReason("top_picks", self.personal), biased(blend), unseen)]
        if "sasrec" in scores and len(history):
            rows.append(row(RowReason("up_next", "sasrec"), biased(scores["sasrec"]), unseen))
        rows.append(row(RowReason("trending", "trending"), biased(scores["trending"]), unseen))
        for anchor in list(dict.fromkeys(history[::-1].tolist()))[:ANCHORS]:
            similarity = percentiles(self.generators["ease"].similar_scores(anchor))
            anchor_id = int(self.data.item_ids[anchor])
            reason = RowReason("because_you_watched", "ease", anchor_item=anchor_id, anchor_title=self.titles[anchor])
            rows.append(row(reason, biased(similarity), unseen, str(anchor_id)))
        counts = Counter(g for item in history.tolist() for g in self.genres[item] if g != S.UNKNOWN_GENRE)
        picked = list(dict.fromkeys(genres))
        counts.update({genre: len(history) + 1 for genre in picked})  # picked genres are never "unexplored"
        for genre in (picked + [g for g, _ in counts.most_common() if g not in picked])[:GENRE_ROWS]:
            rows.append(
                row(RowReason("genre", self.personal, genres=(genre,)), biased(blend), unseen & self._in(genre), genre)
            )
        new_source = "content" if "content" in scores else self.personal
        rows.append(
            row(RowReason("new_for_you", new_source), biased(scores.get("content", blend)), unseen & self.is_new)
        )
        rows.append(
            row(RowReason("hidden_gems", self.personal), biased(blend), unseen & (self.popularity < GEM_POPULARITY))
        )
        explore = self._unexplored_genre(counts)
        if explore:
            popular = biased(scores["popularity"])
            rows.append(
                row(RowReason("explore", "popularity", genres=(explore,)), popular, unseen & self._in(explore), explore)
            )
        return CandidateRows(tuple(candidate for candidate in rows if candidate.items), floor)

    def _relevance_floor(self, relevance: np.ndarray, rules: RowRules) -> float:
        """``rules.min_relevance``, or the highest lower floor that lets ``rules.min_items`` of the showable
        items' ``relevance`` pass (a small catalogue would otherwise leave the page with holes)."""
        passing = np.sort(relevance)[::-1]
        if rules.min_items == 0 or len(passing) == 0 or (passing >= rules.min_relevance).sum() >= rules.min_items:
            return rules.min_relevance
        return float(passing[min(rules.min_items, len(passing)) - 1])

    def _showable(self, history: np.ndarray, allowed_genres: tuple[str, ...]) -> np.ndarray:
        """The items a page for this user may show before the relevance floor: unseen, of an allowed genre."""
        showable = np.ones(self.data.n_items, dtype=bool)
        showable[np.asarray(history, dtype=np.int64)] = False
        if allowed_genres:
            showable &= np.logical_or.reduce([self._in(genre) for genre in allowed_genres])
        return showable

    def top_picks(self, history: np.ndarray, k: int) -> list[int]:
        """The user's ``k`` best unseen items by personal relevance alone: the list a page competes with."""
        history = np.asarray(history, dtype=np.int64)
        _, blend = self._scores(history)
        candidates = np.flatnonzero(self._showable(history, ()))
        best = candidates[np.lexsort((candidates, -blend[candidates]))][:k]
        return [int(i) for i in self.data.item_ids[best]]

    def _scores(self, history: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every generator's percentiles for the user, and the personal blend (popularity for a new user)."""
        scores = {name: percentiles(g.score_histories([history])[0]) for name, g in self.generators.items()}
        personal = [scores[name] for name in ("ease", "sasrec") if name in scores]
        return scores, (np.mean(personal, axis=0) if len(history) else scores["popularity"])

    def _row(
        self,
        reason: RowReason,
        scores: np.ndarray,
        allowed: np.ndarray,
        row_key: str = "",
        *,
        relevance: np.ndarray,
        depth: int,
        rules: RowRules,
    ) -> CandidateRow:
        candidates = np.flatnonzero(allowed)
        ranked = candidates[np.lexsort((candidates, -scores[candidates]))]
        if rules.max_genre_share < 1.0:
            ranked = self._in_rounds(ranked, reason.genres, rules, depth)
        best = ranked[:depth]
        return CandidateRow(
            row_id=f"{reason.row_type}:{row_key}" if row_key else reason.row_type,
            reason=reason,
            items=tuple(int(i) for i in self.data.item_ids[best]),
            scores=tuple(round(float(s), 6) for s in scores[best]),
            relevance=tuple(round(float(s), 6) for s in relevance[best]),
            title=plain_title(reason),
        )

    def _in_rounds(self, ranked: np.ndarray, own: tuple[str, ...], rules: RowRules, depth: int) -> np.ndarray:
        """Up to ``depth`` of the ``ranked`` items, taken in rounds: each round goes down the ranking and
        takes the items that keep every genre but ``own`` within the share of a tile, until the tile is
        full; then the next round starts on what is left. The result keeps the ranking's order."""
        slots = rules.tile_slots
        cap = max(1, math.floor(rules.max_genre_share * slots))
        chosen: list[int] = []
        remaining = ranked.tolist()
        while remaining and len(chosen) < depth:
            counts: Counter[str] = Counter()
            taken: list[int] = []
            skipped: list[int] = []
            for position, item in enumerate(remaining):
                if len(taken) == slots:
                    skipped += remaining[position:]
                    break
                genres = [g for g in self.genres[item] if g not in own]
                if all(counts[g] < cap for g in genres):
                    taken.append(item)
                    counts.update(genres)
                else:
                    skipped.append(item)
            chosen += taken
            if len(taken) < slots:
                break  # no full tile is left in the ranking
            remaining = skipped
        order = {item: rank for rank, item in enumerate(ranked.tolist())}
        return np.array(sorted(chosen[:depth], key=order.__getitem__), dtype=ranked.dtype)

    def facts(self, item_ids: Iterable[int]) -> dict[int, ItemFacts]:
        """Display and coverage facts of the given items."""
        years = self.data.catalogue[S.YEAR].to_list()
        facts = {}
        for item_id in item_ids:
            index = self.data.item_index(item_id)
            facts[item_id] = ItemFacts(
                title=self.titles[index],
                year=years[index],
                genres=tuple(g for g in self.genres[index] if g != S.UNKNOWN_GENRE),
                is_new=bool(self.is_new[index]),
                popularity=round(float(self.popularity[index]), 6),
            )
        return facts

    def _in(self, genre: str) -> np.ndarray:
        """Which catalogue items are of ``genre`` (a fresh array)."""
        mask = self._genre_masks.get(genre)
        return np.zeros(self.data.n_items, dtype=bool) if mask is None else mask.copy()

    @functools.cached_property
    def _genre_masks(self) -> dict[str, np.ndarray]:
        """Every genre's items as a mask, built once: a page asks for several genres."""
        masks: dict[str, np.ndarray] = {}
        for item, genres in enumerate(self.genres):
            for genre in genres:
                masks.setdefault(genre, np.zeros(self.data.n_items, dtype=bool))[item] = True
        return masks

    def _unexplored_genre(self, counts: Counter) -> str | None:
        """The catalogue's most common genre that the user has (almost) never watched."""
        total = max(sum(counts.values()), 1)
        catalogue = Counter(g for genres in self.genres for g in genres if g != S.UNKNOWN_GENRE)
        return next((g for g, _ in catalogue.most_common() if counts.get(g, 0) / total < EXPLORE_SHARE), None)


def _newest(data: TrainingData, share: float) -> np.ndarray:
    """Items first seen most recently (the newest ``share`` of the catalogue) or never seen at all."""
    never = np.iinfo(np.int64).max
    first_seen = np.full(data.n_items, never)
    np.minimum.at(first_seen, data.items, data.timestamps)
    seen = np.flatnonzero(first_seen < never)
    newest = seen[np.argsort(-first_seen[seen], kind="stable")][: max(1, int(share * data.n_items))]
    is_new = first_seen == never
    is_new[newest] = True
    return is_new
