"""The page stage: everything a user's homepage needs, loaded once per dataset and reused per request.

``PageService`` holds the leave-last-out experiment of a dataset (each user's history up to the item
they watched next, which the page metrics then look for), its fitted generators (loaded when saved,
trained and saved when not) and the row builder; ``page()`` turns a user and a layout into a Page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pagegen import data
from pagegen.data import schema as S
from pagegen.evaluation import leave_last_out_experiment
from pagegen.generators import Generator, artifacts, generator_class
from pagegen.layout import Constraints, Layout, parse_constraints
from pagegen.llm.backends import Backend
from pagegen.llm.titles import DEFAULT_BUDGET, TitleCache, TitleReport, title_page
from pagegen.optimizer import Page, PageProblem, optimize, prepare_problem
from pagegen.rows import RowBuilder

PAGE_GENERATORS = ("ease", "sasrec", "popularity", "trending", "content")
TITLE_CACHE = "titles-cache.json"  # in the dataset's folder: model titles by hash of model and prompt


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
        personal blend); ``params`` give a model's settings when it has to be trained."""
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

    def problem(self, user_id: int | None, layout: Layout, settings: Mapping[str, Any] | None = None) -> PageProblem:
        """The page problem for a user (None: a new user with no history) under ``layout`` and slider
        ``settings`` (validated against their ranges)."""
        constraints = self.constraints(layout, settings)
        rows = self.builder.build(self.history(user_id), beta=constraints.popularity_beta)
        facts = self.builder.facts({item for row in rows for item in row.items})
        return prepare_problem(rows, facts, layout, constraints, user_id=user_id)

    @staticmethod
    def constraints(layout: Layout, settings: Mapping[str, Any] | None) -> Constraints:
        return parse_constraints(dict(settings or {}), source="settings", base=layout.constraints)

    def page(
        self,
        user_id: int | None,
        layout: Layout,
        settings: Mapping[str, Any] | None = None,
        *,
        optimizer: str = "ilp",
        compare: bool = True,
    ) -> Page:
        return optimize(self.problem(user_id, layout, settings), optimizer, compare=compare)

    def title(self, page: Page, backend: Backend, *, budget: float = DEFAULT_BUDGET) -> tuple[Page, TitleReport]:
        """The page's rows titled by ``backend`` (validated, cached, within ``budget`` seconds)."""
        return title_page(page, backend, cache=self.title_cache, catalogue=self.catalogue_titles, budget=budget)
