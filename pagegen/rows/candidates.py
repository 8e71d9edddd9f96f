"""Candidate rows from generator scores, each with a structured reason.

A row's theme (its generator: "because you watched X" by likeness to X, "trending" by recent counts, …)
decides which items it holds; every card is then scored with one number, the calibrated ranker's
probability that the user's next item is this one, so rows from different generators are comparable
and the best row can rise to the top. The popularity slider tilts that value by
``exp(POPULARITY_TILT · β · (popularity percentile − ½))`` (β < 0 favours the long tail) and moves the
themes' rankings the same way. Items the user has seen never appear.
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
from pagegen.ranker import Ranker
from pagegen.ranking import percentiles, popularity_percentiles
from pagegen.rows.requests import Intent
from pagegen.vocabulary import ASKED_ROW, RANKER

ANCHORS = 3  # "because you watched X" rows, from the most recent distinct items
GENRE_ROWS = 3  # "<genre> for you" rows, for the user's most watched genres
EXPLORE_SHARE = 0.02  # a genre below this share of the history is unexplored
GEM_POPULARITY = 0.5  # hidden gems come from the less popular half of the catalogue
NEW_SHARE = 0.1  # the newest tenth of the catalogue (by first interaction) is "new"
POPULARITY_TILT = 4.0  # at β = ±1 the most and least popular items' values differ by a factor e⁴ ≈ 55
DEFAULT_DEPTH = 40  # candidates per row when the caller does not size rows to a layout
# An asked row's score: how well an item fits the request, blended with the user's own taste (so two
# users asking the same thing get different rows); the request's fit is the named films' likeness and
# the words' text match.
PERSONAL_WEIGHT = 0.3
LIKE_WEIGHT = 0.7  # of the request's fit, when it names films; the text match has the rest
LIKE_GENRES = 0.5  # of a film's likeness to a named one, the share from their genres in common
WIDEN_YEARS = 10  # an asked decade or range widens by this much on each side before it is given up
# What an asked row gives way on, in order, to stay full: an item's explanation ends with the first part,
# a row's note adds the second.
GIVE_WAY = (
    ("below your relevance floor", "too few matches pass it"),
    ("of only some of the asked genres", "too few have all of them"),
    (f"within {WIDEN_YEARS} years of the asked ones", "too few are from them"),
    ("only close to the request", "too few match all of it"),
)


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


@dataclass(frozen=True, eq=False)
class CandidateRows:
    rows: tuple[CandidateRow, ...]
    relevance_floor: float  # the floor the rows were built with: ``min_relevance``, or lower when it gave way
    probability: np.ndarray  # the ranker's P(next item) of every catalogue item for this user


@dataclass(frozen=True)
class RowReason:
    """What a row is about: the facts its title and explanation are built from."""

    row_type: str
    source: str  # the generator (or blend) behind the scores
    anchor_item: int | None = None
    anchor_title: str | None = None
    genres: tuple[str, ...] = ()
    request: str | None = None  # an asked row's request as the person wrote it (cleaned, shortened)


@dataclass(frozen=True)
class CandidateRow:
    row_id: str  # stable within a page: row type plus anchor or genre
    reason: RowReason
    items: tuple[int, ...]  # item ids, best first
    scores: tuple[float, ...]  # the row's score in [β, 1 + β] (fit to the row's theme), same order
    relevance: tuple[float, ...]  # the user's personal relevance percentile of each item, same order
    title: str
    explanations: tuple[str, ...] = ()  # why each item is in the row, same order; empty where the reason says it


@dataclass(frozen=True)
class ItemFacts:
    """What a page needs to know of an item beyond its scores: display, genres and coverage facts."""

    title: str
    year: int | None
    genres: tuple[str, ...]
    is_new: bool
    popularity: float  # percentile in the catalogue, 0 least popular
    probability: float = 0.0  # the ranker's P(this is the user's next item): what a card is worth unseen of bias


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


def tile_genre_cap(share: float, slots: int) -> int:
    """The most cards of one genre a tile of ``slots`` cards may show (the row's own genre aside) under
    ``max_genre_share`` = ``share``: ``max(1, ⌊share × slots⌋)``. A share written in decimals counts as
    the fraction meant (0.7 of 10 is 7, though 0.7 × 10 is 7.000000000000001 in floating point). The one
    definition: rows are built within it, the optimizer keeps it, the sliders step by it."""
    return max(1, math.floor(share * slots + 1e-9))


def popularity_tilt(popularity: np.ndarray | float, beta: float) -> np.ndarray | float:
    """The popularity slider's factor on a card's value: 1 at β = 0 or at median popularity."""
    return np.exp(POPULARITY_TILT * beta * (np.asarray(popularity) - 0.5))


def with_popularity_bias(scores: np.ndarray, popularity: np.ndarray, beta: float) -> np.ndarray:
    """The popularity slider on positive values (probabilities): β < 0 favours the long tail."""
    return scores * popularity_tilt(popularity, beta)


class RowBuilder:
    """Builds a user's candidate rows from fitted generators over one catalogue."""

    def __init__(
        self, data: TrainingData, generators: dict[str, Generator], ranker: Ranker, *, per_row: int = DEFAULT_DEPTH
    ) -> None:
        missing = {"ease", "popularity", "trending"} - set(generators)
        if missing:
            raise ConfigError(f"candidate rows need the generators {', '.join(sorted(missing))}")
        self.data, self.generators, self.ranker, self.per_row = data, generators, ranker, per_row
        self.personal = RANKER
        self.popularity = popularity_percentiles(data.item_counts).astype(np.float32)
        self.genres = data.catalogue[S.GENRES].to_list()
        self.titles = data.catalogue[S.TITLE].to_list()
        self.years = data.catalogue[S.YEAR].to_list()
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
        scores, probability = self._scores(history)
        relevance = percentiles(probability)
        biased = lambda base: base + beta * self.popularity  # noqa: E731  (a theme's ranking, in percentiles)
        showable = self._showable(history, rules.allowed_genres)
        floor = self._relevance_floor(relevance[showable], rules)
        unseen = showable & (relevance >= floor)
        depth = depth or self.per_row
        value = with_popularity_bias(probability, self.popularity, beta)
        row = functools.partial(self._row, value=value, relevance=relevance, depth=depth, rules=rules)
        personal = biased(relevance)
        rows = [row(RowReason("top_picks", self.personal), personal, unseen)]
        if "sasrec" in scores and len(history):
            rows.append(row(RowReason("up_next", "sasrec"), biased(percentiles(scores["sasrec"])), unseen))
        rows.append(row(RowReason("trending", "trending"), biased(percentiles(scores["trending"])), unseen))
        ease = self.generators["ease"]
        for anchor in self._anchors(history, rules.allowed_genres):
            similarity = percentiles(ease.similar_scores(anchor))
            anchor_id = int(self.data.item_ids[anchor])
            reason = RowReason("because_you_watched", "ease", anchor_item=anchor_id, anchor_title=self.titles[anchor])
            rows.append(row(reason, biased(similarity), unseen, str(anchor_id)))
        counts = Counter(g for item in history.tolist() for g in self.genres[item] if g != S.UNKNOWN_GENRE)
        picked = list(dict.fromkeys(genres))
        counts.update({genre: len(history) + 1 for genre in picked})  # picked genres are never "unexplored"
        for genre in self._genre_rows(picked, counts, unseen, rules):
            rows.append(
                row(RowReason("genre", self.personal, genres=(genre,)), personal, unseen & self._in(genre), genre)
            )
        new_source = "content" if "content" in scores else self.personal
        new_theme = biased(percentiles(scores["content"])) if "content" in scores else personal
        rows.append(row(RowReason("new_for_you", new_source), new_theme, unseen & self.is_new))
        rows.append(row(RowReason("hidden_gems", self.personal), personal, unseen & (self.popularity < GEM_POPULARITY)))
        explore = self._unexplored_genre(counts)
        if explore:
            popular = biased(percentiles(scores["popularity"]))
            rows.append(
                row(RowReason("explore", "popularity", genres=(explore,)), popular, unseen & self._in(explore), explore)
            )
        return CandidateRows(tuple(candidate for candidate in rows if candidate.items), floor, probability)

    def asked(
        self,
        history: np.ndarray,
        intent: Intent,
        *,
        text_scores: np.ndarray | None,
        row_id: str,
        title: str,
        request: str,
        beta: float = 0.0,
        rules: RowRules = RowRules(),
        depth: int | None = None,
    ) -> CandidateRow:
        """The row a user asked for; an item that does not match all that was asked says in its
        explanation what it gave way on (the first part of a ``GIVE_WAY`` entry). Items are unseen, allowed
        by the layout, of none of the avoided genres and not the named films. They are taken in tiers, each
        only to fill what the tiers before leave of the row's depth: all that was asked and above the
        relevance floor; then below the floor; then only some of the asked genres; then years widened by
        ``WIDEN_YEARS``; then whatever is closest to the request. A lower tier's scores sit below every
        higher tier's, so the optimizer shows full matches first and a lower tier's items only where too
        few full matches are left to fill the tile. ``text_scores``: each item's match to the
        request's words (the content model), or None."""
        history = np.asarray(history, dtype=np.int64)
        _, probability = self._scores(history)
        relevance = percentiles(probability)
        showable = self._showable(history, rules.allowed_genres)
        showable[self.data.item_indices([*intent.like, *intent.avoid_items])] = False
        for genre in intent.avoid_genres:
            showable &= ~self._in(genre)
        likeness = (
            np.mean([self._likeness(self.data.item_index(item)) for item in intent.like], axis=0)
            if intent.like
            else None
        )
        text = percentiles(np.asarray(text_scores, dtype=np.float32)) if text_scores is not None else None
        fit = self._request_fit(likeness, text, relevance)
        tiers = self._request_tiers(intent, relevance, rules.min_relevance)
        own = intent.genres or self._liked_genres(intent.like)
        depth = depth or self.per_row
        chosen: list[int] = []
        scores: list[float] = []
        notes: dict[int, str] = {}
        for level, (why, mask) in enumerate(tiers):
            taken = set(chosen)
            candidates = [i for i in np.flatnonzero(mask & showable).tolist() if i not in taken]
            ranked = sorted(candidates, key=lambda i: (-fit[i], i))
            room = depth - len(chosen)
            if room <= 0:
                break
            if rules.max_genre_share < 1.0:
                ranked = self._in_rounds(np.array(ranked, dtype=np.int64), own, rules, depth).tolist()
            ceiling = min(scores, default=1.0)
            for index in ranked[:room]:
                chosen.append(index)
                scores.append(float(fit[index]) * (0.99 * ceiling if level else 1.0))
                if why:
                    notes[index] = why
        order = sorted(range(len(chosen)), key=lambda k: (-scores[k], chosen[k]))
        chosen = [chosen[k] for k in order]
        scores = [scores[k] for k in order]
        # In the page's unit: the best fit is worth the user's most likely next item, so an asked row's
        # cards weigh like the rest of the page while keeping the request's order.
        scale = float(probability.max()) if len(probability) else 0.0
        biased = (
            with_popularity_bias(np.array(scores) * scale, self.popularity[chosen], beta) if chosen else np.zeros(0)
        )
        anchor = intent.like[0] if intent.like else None
        reason = RowReason(
            ASKED_ROW,
            f"request+{self.personal}",
            anchor_item=anchor,
            anchor_title=self.titles[self.data.item_index(anchor)] if anchor is not None else None,
            genres=own,
            request=request,
        )
        return CandidateRow(
            row_id=row_id,
            reason=reason,
            items=tuple(int(i) for i in self.data.item_ids[chosen]),
            scores=tuple(round(float(s), 6) for s in biased),
            relevance=tuple(round(float(relevance[i]), 6) for i in chosen),
            title=title,
            explanations=tuple(
                self._explain(i, intent, likeness, text, relevance[i], notes.get(i, "")) for i in chosen
            ),
        )

    def _likeness(self, index: int) -> np.ndarray:
        """How like catalogue item ``index`` every item is, in [0, 1]: half the share of its genres an
        item shares (Jaccard), half EASE's co-watching and, when the content model is there, its text
        similarity, as percentiles. The genres keep "like Alien" about science fiction and horror: the
        text model alone finds any film of 1979 close, co-watching any classic."""
        models = [self.generators["ease"], self.generators.get("content")]
        behaviour = [percentiles(m.similar_scores(index)) for m in models if m is not None and m.has_neighbours(index)]
        own = set(self.genres[index]) - {S.UNKNOWN_GENRE}
        shared = np.array([len(own & set(g)) / max(len(own | set(g)), 1) for g in self.genres], dtype=np.float32)
        if not behaviour:  # no model knows neighbours of this item: its genres alone
            return shared
        return LIKE_GENRES * shared + (1 - LIKE_GENRES) * np.mean(behaviour, axis=0)

    @staticmethod
    def _request_fit(likeness: np.ndarray | None, text: np.ndarray | None, relevance: np.ndarray) -> np.ndarray:
        """Each item's fit to the request (percentiles of likeness to the named films and of the words'
        text match), blended with the user's own relevance, in [0, 1]."""
        if likeness is not None and text is not None:
            request = LIKE_WEIGHT * likeness + (1 - LIKE_WEIGHT) * text
        else:
            request = likeness if likeness is not None else text if text is not None else relevance
        return (1 - PERSONAL_WEIGHT) * request + PERSONAL_WEIGHT * relevance

    def _request_tiers(self, intent: Intent, relevance: np.ndarray, floor: float) -> list[tuple[str, np.ndarray]]:
        """(why an item of the tier is shown, which items are in it), strictest first."""
        every = np.ones(self.data.n_items, dtype=bool)
        all_genres = np.logical_and.reduce([self._in(g) for g in intent.genres]) if intent.genres else every
        any_genre = np.logical_or.reduce([self._in(g) for g in intent.genres]) if intent.genres else every
        in_years = widened = every
        if intent.years:
            years = np.array([y if y is not None else -1 for y in self.years])
            first, last = intent.years
            in_years = (years >= first) & (years <= last)
            widened = (years >= first - WIDEN_YEARS) & (years <= last + WIDEN_YEARS)
        floor_kept, some_genres, near_years, closest = (short for short, _ in GIVE_WAY)
        tiers = [("", all_genres & in_years & (relevance >= floor)), (floor_kept, all_genres & in_years)]
        if len(intent.genres) > 1:
            tiers.append((some_genres, any_genre & in_years))
        if intent.years:
            tiers.append((near_years, any_genre & widened))
        if intent.genres or intent.years:
            tiers.append((closest, every))
        return tiers

    def _liked_genres(self, liked: tuple[int, ...]) -> tuple[str, ...]:
        """The genres of the films a request is like: what a "like X" row is about."""
        genres = [g for item in liked for g in self.genres[self.data.item_index(item)] if g != S.UNKNOWN_GENRE]
        return tuple(dict.fromkeys(genres))

    def _explain(
        self,
        index: int,
        intent: Intent,
        likeness: np.ndarray | None,
        text: np.ndarray | None,
        relevance: float,
        note: str,
    ) -> str:
        """Why an item is in an asked row, in one line."""
        years = self.data.catalogue[S.YEAR][index]
        genres = [g for g in self.genres[index] if g != S.UNKNOWN_GENRE]
        parts = [", ".join(genres) + (f", {years}" if years is not None else "")]
        if likeness is not None:
            names = " and ".join(self.titles[self.data.item_index(i)] for i in intent.like[:2])
            parts.append(f"{likeness[index]:.0%} like {names}")
        elif text is not None:
            parts.append(f"words match: {text[index]:.0%}")
        parts.append(f"your taste: {relevance:.0%}")
        if note:
            parts.append(note)
        return " · ".join(parts)

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
        _, probability = self._scores(history)
        candidates = np.flatnonzero(self._showable(history, ()))
        best = candidates[np.lexsort((candidates, -probability[candidates]))][:k]
        return [int(i) for i in self.data.item_ids[best]]

    def probabilities(self, history: np.ndarray) -> np.ndarray:
        """The ranker's P(next item) of every catalogue item for a user with ``history`` (seen items 0)."""
        return self._scores(np.asarray(history, dtype=np.int64))[1]

    def _scores(self, history: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every generator's raw scores for the user, and the ranker's P(next item) over the catalogue."""
        scores = {name: g.score_histories([history])[0] for name, g in self.generators.items()}
        raw = {name: scores[name][None, :] for name in self.ranker.generator_names}
        return scores, self.ranker.probabilities(raw, [history])[0]

    def _genre_rows(self, picked: list[str], counts: Counter, unseen: np.ndarray, rules: RowRules) -> list[str]:
        """The genres of the "<genre> for you" rows: the picked ones, then the user's most watched, among
        those with a tile's worth of items the page may show; then the layout's own allowed genres (a
        kids page's rows stay about children's films when the user's history is about others)."""
        ranked = picked + [g for g, _ in counts.most_common() if g not in picked] + list(rules.allowed_genres)
        fillable = [g for g in dict.fromkeys(ranked) if (unseen & self._in(g)).sum() >= rules.tile_slots]
        return fillable[:GENRE_ROWS]

    def _anchors(self, history: np.ndarray, allowed_genres: tuple[str, ...]) -> list[int]:
        """The items "because you watched" rows start from: the latest distinct items watched that EASE
        knows neighbours of and that the layout's genre rule allows (a kids page never anchors on a
        horror film)."""
        ease = self.generators["ease"]
        showable = self._showable(np.zeros(0, dtype=np.int64), allowed_genres)
        latest = dict.fromkeys(history[::-1].tolist())
        return [item for item in latest if showable[item] and ease.has_neighbours(item)][:ANCHORS]

    def _row(
        self,
        reason: RowReason,
        theme: np.ndarray,
        allowed: np.ndarray,
        row_key: str = "",
        *,
        value: np.ndarray,
        relevance: np.ndarray,
        depth: int,
        rules: RowRules,
    ) -> CandidateRow:
        """The ``depth`` items best on the row's ``theme`` (which decides what the row is about), each
        card scored and the row ordered by ``value`` (the calibrated probability, tilted)."""
        candidates = np.flatnonzero(allowed)
        ranked = candidates[np.lexsort((candidates, -theme[candidates]))]
        if rules.max_genre_share < 1.0:
            ranked = self._in_rounds(ranked, reason.genres, rules, depth)
        chosen = ranked[:depth]
        best = chosen[np.lexsort((chosen, -value[chosen]))]
        return CandidateRow(
            row_id=f"{reason.row_type}:{row_key}" if row_key else reason.row_type,
            reason=reason,
            items=tuple(int(i) for i in self.data.item_ids[best]),
            scores=tuple(round(float(s), 9) for s in value[best]),
            relevance=tuple(round(float(s), 6) for s in relevance[best]),
            title=plain_title(reason),
        )

    def _in_rounds(self, ranked: np.ndarray, own: tuple[str, ...], rules: RowRules, depth: int) -> np.ndarray:
        """Up to ``depth`` of the ``ranked`` items, taken in rounds: each round goes down the ranking and
        takes the items that keep every genre but ``own`` within the share of a tile, until the tile is
        full; then the next round starts on what is left. The result keeps the ranking's order."""
        slots = rules.tile_slots
        cap = tile_genre_cap(rules.max_genre_share, slots)
        chosen: list[int] = []
        items = ranked.tolist()
        remaining = list(range(len(items)))  # ranks in the ranking, so the result sorts by rank directly
        while remaining and len(chosen) < depth:
            counts: Counter[str] = Counter()
            taken: list[int] = []
            skipped: list[int] = []
            for position, rank in enumerate(remaining):
                if len(taken) == slots:
                    skipped += remaining[position:]
                    break
                genres = [g for g in self.genres[items[rank]] if g not in own]
                if all(counts[g] < cap for g in genres):
                    taken.append(rank)
                    counts.update(genres)
                else:
                    skipped.append(rank)
            chosen += taken
            if len(taken) < slots:
                break  # no full tile is left in the ranking
            remaining = skipped
        return ranked[sorted(chosen[:depth])]

    def facts(self, item_ids: Iterable[int], probability: np.ndarray | None = None) -> dict[int, ItemFacts]:
        """Display and coverage facts of the given items, with a user's ``probability`` of each (the
        ranker's, over the catalogue) when the facts are for one user's page."""
        facts = {}
        for item_id in sorted(item_ids):
            index = self.data.item_index(item_id)
            facts[item_id] = ItemFacts(
                title=self.titles[index],
                year=self.years[index],
                genres=tuple(g for g in self.genres[index] if g != S.UNKNOWN_GENRE),
                is_new=bool(self.is_new[index]),
                popularity=round(float(self.popularity[index]), 6),
                probability=round(float(probability[index]), 9) if probability is not None else 0.0,
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
        return next((g for g in self.genres_by_count if counts.get(g, 0) / total < EXPLORE_SHARE), None)

    @functools.cached_property
    def genres_by_count(self) -> tuple[str, ...]:
        """The catalogue's genres, most common first; counted once, not on every page (20 ms a page at
        20 000 items)."""
        catalogue = Counter(g for genres in self.genres for g in genres if g != S.UNKNOWN_GENRE)
        return tuple(g for g, _ in catalogue.most_common())


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
