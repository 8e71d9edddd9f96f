"""The page stage: everything a user's homepage needs, loaded once per dataset and reused per request.

``PageService`` holds the leave-last-out experiment of a dataset (each user's history up to the item
they watched next, which the page metrics then look for), its fitted generators (loaded when saved,
trained and saved when not) and the row builder; ``page()`` turns a user and a layout into a Page.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pagegen import data
from pagegen.data import schema as S
from pagegen.errors import ConfigError
from pagegen.generators import Generator, artifacts, generator_class
from pagegen.generators.experiments import leave_last_out_experiment
from pagegen.layout import Constraints, Layout, parse_constraints
from pagegen.llm.backends import Backend
from pagegen.llm.titles import DEFAULT_BUDGET, TitleCache, TitleReport, title_page
from pagegen.optimizer import NODE_LIMIT, Page, PageProblem, Relaxation, optimize, prepare_problem, row_depth
from pagegen.rows import ItemFacts, RowBuilder, RowRules
from pagegen.vocabulary import DEFAULT_OPTIMIZER

PAGE_GENERATORS = ("ease", "sasrec", "popularity", "trending", "content")
TITLE_CACHE = "titles-cache.json"  # in the dataset's folder: model titles by hash of model and prompt


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
        self.generators: dict[str, Generator] = {
            name: artifacts.load_or_train(
                generator_class(name),
                data_dir,
                self.experiment.train,
                validation=self.experiment.validation,
                params=(params or {}).get(name),
                progress=progress,
            )[0]
            for name in models
        }
        self.builder = RowBuilder(self.experiment.serving, self.generators)
        self.title_cache = TitleCache(data_dir / dataset / TITLE_CACHE)
        self.catalogue_titles = self.experiment.serving.catalogue[S.TITLE].to_list()

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
    ) -> PageProblem:
        """The page problem for a user under ``layout`` and slider ``settings`` (validated against their
        ranges). ``user_id`` None is a new user, whose onboarding picks (``liked`` item ids, ``genres``)
        stand in for a history."""
        constraints = self.constraints(layout, settings)
        if user_id is not None and (liked or genres):
            raise ConfigError("liked items and genres describe a new user; a known user has a history")
        known_genres = set(self.genres())
        unknown = [genre for genre in genres if genre not in known_genres]
        if unknown:
            raise ConfigError(f"unknown genre {unknown[0]!r}; genres: {', '.join(sorted(known_genres))}")
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
        facts = self.builder.facts({item for row in built.rows for item in row.items})
        relaxed: tuple[Relaxation, ...] = ()
        if built.relevance_floor < constraints.min_relevance_quantile:
            why = f"fewer than the page's {needed} cards pass it"
            relaxed = (
                Relaxation(
                    "min_relevance_quantile", constraints.min_relevance_quantile, round(built.relevance_floor, 4), why
                ),
            )
            constraints = dataclasses.replace(constraints, min_relevance_quantile=built.relevance_floor)
        return prepare_problem(built.rows, facts, layout, constraints, user_id=user_id, item_relaxations=relaxed)

    def genres(self) -> list[str]:
        """The catalogue's genres, most common first (the onboarding choices)."""
        counts = Counter(g for genres in self.experiment.serving.catalogue[S.GENRES].to_list() for g in genres)
        return [genre for genre, _ in counts.most_common() if genre != S.UNKNOWN_GENRE]

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
        self, page: Page, backend: Backend, *, budget: float = DEFAULT_BUDGET, generate: bool = True
    ) -> tuple[Page, TitleReport]:
        """The page's rows titled by ``backend`` (validated, cached, within ``budget`` seconds); from the
        cache alone when not ``generate`` (see ``title_page``)."""
        return title_page(
            page, backend, cache=self.title_cache, catalogue=self.catalogue_titles, budget=budget, generate=generate
        )
