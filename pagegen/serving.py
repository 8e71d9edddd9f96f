"""The page stage: everything a user's homepage needs, loaded once per dataset and reused per request.

``PageService`` holds the leave-last-out experiment of a dataset (each user's history up to the item
they watched next, which the page metrics then look for), its fitted generators (loaded when saved,
trained and saved when not) and the row builder; ``page()`` turns a user and a layout into a Page.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pagegen import data
from pagegen.data import schema as S
from pagegen.errors import ConfigError, ModelUnavailableError, UnknownGenreError
from pagegen.generators import Generator, artifacts, generator_class
from pagegen.generators.experiments import leave_last_out_experiment
from pagegen.layout import Constraints, Layout, parse_constraints, with_asked_tiles
from pagegen.llm.backends import Backend, TemplateBackend
from pagegen.llm.intent import Understanding, understand
from pagegen.llm.titles import DEFAULT_BUDGET, TitleCache, TitleReport, title_page
from pagegen.optimizer import (
    NODE_LIMIT,
    Page,
    PageProblem,
    Relaxation,
    format_page,
    optimize,
    prepare_problem,
    row_depth,
)
from pagegen.ranker import load_or_fit_ranker
from pagegen.rows import CandidateRow, ItemFacts, RowBuilder, RowRules
from pagegen.rows.candidates import GIVE_WAY
from pagegen.rows.requests import Intent, RequestError, RequestVocabulary, clean_request, intent_label
from pagegen.vocabulary import ASKED_ROW, DEFAULT_OPTIMIZER, MAX_ASKED

PAGE_GENERATORS = ("ease", "sasrec", "popularity", "trending", "content")
TITLE_CACHE = "titles-cache.json"  # in the dataset's folder: model titles by hash of model and prompt
TITLE_CHARS = 40  # an asked row titled by its request's own words shows at most this many characters


@dataclass(frozen=True)
class Asked:
    """One request as the page answers it: the words read, how they were understood and by whom, and
    notes on what was not understood or what the row had to give way on."""

    request: str  # cleaned and shortened: what was read
    row_id: str
    title: str
    understanding: Understanding
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        intent = self.understanding.intent
        return {
            "request": self.request,
            "row_id": self.row_id,
            "title": self.title,
            "parser": self.understanding.parser,
            "intent": {**dataclasses.asdict(intent), "years": list(intent.years) if intent.years else None},
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class AskedPage:
    """A page with the rows a user asked for on top (newest first)."""

    page: Page
    asked: tuple[Asked, ...]

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        return {**self.page.to_dict(timings=timings), "asked": [asked.to_dict() for asked in self.asked]}


def training_plan(
    dataset: str,
    data_dir: Path,
    *,
    models: Sequence[str] = PAGE_GENERATORS,
    params: Mapping[str, dict[str, Any]] | None = None,
) -> list[str]:
    """What ``PageService`` with these arguments will train before it serves, one "training X on D
    (split): why" line per model, none when every model loads: for the dashboard to say why it waits.
    Reads the dataset and the models' manifests (a quarter second on ml-100k), trains nothing."""
    train = leave_last_out_experiment(data.load_dataset(dataset, data_dir)).train
    notices = [
        artifacts.training_notice(generator_class(name), data_dir, train, params=(params or {}).get(name))
        for name in models
    ]
    return [notice for notice in notices if notice is not None]


class PageService:
    def __init__(
        self,
        dataset: str,
        data_dir: Path,
        *,
        models: Sequence[str] = PAGE_GENERATORS,
        params: Mapping[str, dict[str, Any]] | None = None,
        progress: bool = False,
    ) -> None:
        """``models`` may leave out sasrec (no "up next" row) and content (new items ranked by the
        personal blend); ``params`` give a model's settings when it has to be trained; ``progress``
        says on stderr what is trained and why, with bars (see ``training_plan`` for the dashboard)."""
        self.data_dir = data_dir
        self.dataset = data.load_dataset(dataset, data_dir)
        self.experiment = leave_last_out_experiment(self.dataset)
        loaded = {
            name: artifacts.load_or_train(
                generator_class(name),
                data_dir,
                self.experiment.train,
                validation=self.experiment.validation,
                params=(params or {}).get(name),
                progress=progress,
            )
            for name in models
        }
        self.generators: dict[str, Generator] = {name: generator for name, (generator, _) in loaded.items()}
        self.ranker = load_or_fit_ranker(
            self.generators,
            data_dir,
            self.experiment.train,
            self.experiment.validation,
            {name: manifest for name, (_, manifest) in loaded.items()},
            progress=progress,
        )
        self.builder = RowBuilder(self.experiment.serving, self.generators, self.ranker)
        self.title_cache = TitleCache(data_dir / dataset / TITLE_CACHE)
        self.catalogue_titles = self.experiment.serving.catalogue[S.TITLE].to_list()
        serving = self.experiment.serving
        self.vocabulary = RequestVocabulary.of(
            serving.item_ids.tolist(),
            self.catalogue_titles,
            serving.catalogue[S.YEAR].to_list(),
            serving.catalogue[S.GENRES].to_list(),
            serving.item_counts.tolist(),
        )

    @property
    def name(self) -> str:
        return self.dataset.name

    def user_ids(self) -> np.ndarray:
        return self.experiment.serving.user_ids

    def history(self, user_id: int | None) -> np.ndarray:
        """Dense item indices the user watched before their held-out item; empty for a new user."""
        if user_id is None:
            return np.zeros(0, dtype=np.int64)
        return self.experiment.serving.history(user_id)  # raises UnknownUserError for an unknown id

    def _history_or_picks(self, user_id: int | None, liked: Sequence[int]) -> np.ndarray:
        """A known user's history, or the dense indices of a new user's liked items (unknown ids raise)."""
        return self.history(user_id) if user_id is not None else self.experiment.serving.item_indices(list(liked))

    def problem(
        self,
        user_id: int | None,
        layout: Layout,
        settings: Mapping[str, Any] | None = None,
        *,
        liked: Sequence[int] = (),
        genres: Sequence[str] = (),
        asked: Sequence[Asked] = (),
    ) -> PageProblem:
        """The page problem for a user under ``layout`` and slider ``settings`` (validated against their
        ranges). ``user_id`` None is a new user, whose onboarding picks (``liked`` item ids, ``genres``)
        stand in for a history. ``asked``: rows the user asked for, each pinned to its own tile on top."""
        constraints = self.constraints(layout, settings)
        if user_id is not None and (liked or genres):
            raise ConfigError("liked items and genres describe a new user; a known user has a history")
        known = self.builder.genres_by_count
        unknown = [genre for genre in genres if genre not in known]
        if unknown:
            raise UnknownGenreError(unknown, sorted(known))
        history = self._history_or_picks(user_id, liked)
        needed = layout.total_slots if constraints.dedup == "hard" else max(tile.slots for tile in layout.tiles)
        rules = RowRules(
            allowed_genres=constraints.allowed_genres,
            min_relevance=constraints.min_relevance_quantile,
            max_genre_share=constraints.max_genre_share,
            min_items=needed,
            tile_slots=max(tile.slots for tile in layout.tiles),
        )
        built = self.builder.build(
            history, beta=constraints.popularity_beta, genres=genres, rules=rules, depth=row_depth(layout)
        )
        rows = [*built.rows, *(self._asked_row(a, history, constraints, rules, row_depth(layout)) for a in asked)]
        layout = with_asked_tiles(layout, tuple(a.row_id for a in asked))
        facts = self.builder.facts({item for row in rows for item in row.items}, built.probability)
        relaxed: tuple[Relaxation, ...] = ()
        if built.relevance_floor < constraints.min_relevance_quantile:
            why = f"fewer than the page's {needed} cards pass it"
            relaxed = (
                Relaxation(
                    "min_relevance_quantile", constraints.min_relevance_quantile, round(built.relevance_floor, 4), why
                ),
            )
            constraints = dataclasses.replace(constraints, min_relevance_quantile=built.relevance_floor)
        return prepare_problem(rows, facts, layout, constraints, user_id=user_id, item_relaxations=relaxed)

    def read_request(self, text: str, reader: Backend, *, number: int = 0) -> Asked:
        """A request read (by ``reader``'s model, else by rules) and named: its row id and title. A
        RequestError for an empty one."""
        request, shortened = clean_request(text)
        understanding = understand(request, self.vocabulary, reader)
        intent = understanding.intent
        title = intent_label(intent, self.vocabulary) or _own_words(request)
        notes = [f"Long request: {shortened}"] if shortened else []
        if understanding.note:
            notes.append(understanding.note)
        if intent.unknown_genres:
            notes.append(
                f"the catalogue has no genre {', '.join(map(repr, intent.unknown_genres))}; "
                f"genres: {', '.join(self.vocabulary.genres)}"
            )
        if intent.unknown_films:
            notes.append(f"no film called {', '.join(map(repr, intent.unknown_films))} in the catalogue")
        if not intent.understood:
            notes.append("no genre, year or catalogue film understood: the row is what comes closest to the words")
        return Asked(request, f"{ASKED_ROW}:{number}", title, understanding, tuple(notes))

    def _asked_row(
        self, asked: Asked, history: np.ndarray, constraints: Constraints, rules: RowRules, depth: int
    ) -> CandidateRow:
        intent = asked.understanding.intent
        return self.builder.asked(  # what it gave way on is in its items' explanations
            history,
            intent,
            text_scores=self._text_scores(asked.request, intent),
            row_id=asked.row_id,
            title=asked.title,
            request=asked.request,
            beta=constraints.popularity_beta,
            rules=rules,
            depth=depth,
        )

    def _text_scores(self, request: str, intent: Intent) -> np.ndarray | None:
        """Each item's match to the request's words by the content model; None without one (or when its
        embedding server is down: the row then ranks by the rest)."""
        content = self.generators.get("content")
        if content is None:
            return None
        text = f"{request}. Genres: {', '.join(intent.genres)}." if intent.genres else request
        try:
            return content.score_text(text)  # type: ignore[attr-defined]
        except ModelUnavailableError:
            return None

    def ask(
        self,
        requests: Sequence[str],
        user_id: int | None,
        layout: Layout,
        settings: Mapping[str, Any] | None = None,
        *,
        reader: Backend | None = None,
        optimizer: str = DEFAULT_OPTIMIZER,
        compare: bool = True,
        node_limit: int = NODE_LIMIT,
        liked: Sequence[int] = (),
        genres: Sequence[str] = (),
    ) -> AskedPage:
        """The page with a row for each request on top, newest (first) on top, at most ``MAX_ASKED``;
        requests are read by ``reader``'s model when it has one (else by rules)."""
        reader = reader or TemplateBackend()
        asked: list[Asked] = []
        unread: list[str] = []
        for text in requests[:MAX_ASKED]:  # one unreadable request does not cost the others their rows
            try:
                asked.append(self.read_request(text, reader, number=len(asked)))
            except RequestError as error:
                unread.append(str(error))
        if not asked:
            raise RequestError(unread[0] if unread else "no request: say what you would like, e.g. '80s horror'")
        if unread:
            asked[0] = dataclasses.replace(
                asked[0], notes=(*asked[0].notes, f"another request was skipped: {unread[0]}")
            )
        problem = self.problem(user_id, layout, settings, liked=liked, genres=genres, asked=asked)
        page = optimize(problem, optimizer, compare=compare, node_limit=node_limit)
        return AskedPage(page, tuple(_with_row_notes(a, page, problem) for a in asked))

    def genres(self) -> list[str]:
        """The catalogue's genres, most common first (the onboarding choices)."""
        return list(self.builder.genres_by_count)

    def recent(self, user_id: int | None, *, liked: Sequence[int] = (), count: int = 8) -> list[ItemFacts]:
        """The user's latest items, newest first (a new user's liked items), for the history strip."""
        serving = self.experiment.serving
        history = self._history_or_picks(user_id, liked)
        latest = [int(serving.item_ids[i]) for i in history[::-1][:count]]
        facts = self.builder.facts(latest)
        return [facts[item] for item in latest]

    @functools.cached_property
    def item_share(self) -> dict[int, float]:
        """Item id → share of users who interacted with it (the page metrics' novelty)."""
        serving = self.experiment.serving
        counts = np.asarray(serving.item_counts, dtype=float) / max(serving.n_users, 1)
        return dict(zip(serving.item_ids.tolist(), counts.tolist(), strict=True))

    def popular_items(self) -> dict[int, str]:
        """Item id → title, most watched first: the onboarding's list of films to like."""
        serving = self.experiment.serving
        order = np.argsort(-serving.item_counts, kind="stable")
        return {int(serving.item_ids[i]): self.catalogue_titles[i] for i in order}

    @staticmethod
    def constraints(layout: Layout, settings: Mapping[str, Any] | None) -> Constraints:
        return parse_constraints(dict(settings or {}), source="settings", base=layout.constraints)

    def page(
        self,
        user_id: int | None,
        layout: Layout,
        settings: Mapping[str, Any] | None = None,
        *,
        optimizer: str = DEFAULT_OPTIMIZER,
        compare: bool = True,
        node_limit: int = NODE_LIMIT,
        liked: Sequence[int] = (),
        genres: Sequence[str] = (),
    ) -> Page:
        problem = self.problem(user_id, layout, settings, liked=liked, genres=genres)
        return optimize(problem, optimizer, compare=compare, node_limit=node_limit)

    def title(
        self,
        page: Page,
        backend: Backend,
        *,
        budget: float = DEFAULT_BUDGET,
        generate: bool = True,
        remember_misses: bool = True,
    ) -> tuple[Page, TitleReport]:
        """The page's rows titled by ``backend`` (validated, cached, within ``budget`` seconds); from the
        cache alone when not ``generate`` (see ``title_page``)."""
        return title_page(
            page,
            backend,
            cache=self.title_cache,
            catalogue=self.catalogue_titles,
            budget=budget,
            generate=generate,
            remember_misses=remember_misses,
        )


def _own_words(request: str) -> str:
    """A title from a request nothing was understood in: its own words, shortened."""
    words = request if len(request) <= TITLE_CHARS else request[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return words[:1].upper() + words[1:]


def _with_row_notes(asked: Asked, page: Page, problem: PageProblem) -> Asked:
    """``asked`` with what its row on the page gave way on: cards that match only part of the request,
    asked genres the layout does not allow, or the row missing from the page."""
    notes = list(asked.notes)
    intent = asked.understanding.intent
    allowed = set(problem.constraints.allowed_genres)
    barred = [g for g in intent.genres if allowed and g not in allowed]
    if barred:
        notes.append(f"this layout shows only {', '.join(sorted(allowed))}; {', '.join(barred)} is not allowed here")
    row = next((r for r in page.rows if r.row_id == asked.row_id), None)
    if row is None:
        why = next((r.note for r in page.report.relaxations if r.constraint.endswith(".pinned")), "")
        notes.append(f"the asked row is not on the page: {why or 'nothing the layout may show matches it'}")
        return dataclasses.replace(asked, notes=tuple(notes))
    for short, cause in GIVE_WAY:
        count = sum(item.why.endswith(short) for item in row.items)
        if count:
            notes.append(f"{count} of {len(row.items)} cards are {short}: {cause}")
    return dataclasses.replace(asked, notes=tuple(notes))


def format_asked(asked: AskedPage, dataset: str, held_out: int | None = None) -> str:
    """An asked page as text: each request, how it was read and what its row gave way on, then the page."""
    lines = []
    for request in asked.asked:
        lines.append(f"You asked: {request.request}  → {request.title!r}, read by {request.understanding.parser}")
        lines += [f"  note: {note}" for note in request.notes]
    return "\n".join([*lines, "", format_page(asked.page, dataset, held_out)])
