"""One contract for every candidate generator (template method).

The public methods here check what every generator needs checked — fitted, known user or item,
``k > 0``, output shape, no NaN — and subclasses implement only the private hooks:
``_fit``, ``_score`` (histories → scores over all items), ``_state``/``_restore`` for saving, and
``_similar`` where the generator has an item-to-item notion (public as ``similar`` and ``similar_scores``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.errors import ConfigError, ModelFitError, NotFittedError
from pagegen.generators.training import TrainingData

SCORE = "score"
RANK = "rank"


@dataclass(frozen=True)
class Validation:
    """Held-out next items for choosing hyper-parameters: histories and one target item each."""

    histories: list[np.ndarray]
    targets: np.ndarray  # dense item index per history
    users: np.ndarray | None = None  # the user id of each history, where known

    def spread(self, limit: int) -> Validation:
        """At most ``limit`` of the histories, evenly spread over them (all of them when there are no more):
        enough to choose a hyper-parameter, at a fixed cost on a large dataset."""
        if len(self.histories) <= limit:
            return self
        keep = np.unique(np.linspace(0, len(self.histories) - 1, limit).round().astype(np.int64))
        return Validation(
            histories=[self.histories[i] for i in keep],
            targets=self.targets[keep],
            users=None if self.users is None else self.users[keep],
        )


class Generator(ABC):
    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    supports_similar: ClassVar[bool] = False
    uses_item_text: ClassVar[bool] = False  # a saved model is stale when item titles or descriptions change
    uses_validation: ClassVar[bool] = False  # tunes or early-stops on the validation split
    runtime_params: ClassVar[frozenset[str]] = frozenset()  # settings that do not change what is learned
    fit_note: str | None = None  # what the fit did that its user should know, e.g. fitting only a subset

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ConfigError(
                f"{self.name} does not take parameter(s) {', '.join(unknown)}; it takes {', '.join(sorted(self.defaults)) or 'none'}"
            )
        self.params: dict[str, Any] = {**self.defaults, **params}
        for key, value in params.items():
            _check_type(self.name, key, value, self.defaults[key])
        self._check_params()
        self._data: TrainingData | None = None

    # -- the contract ---------------------------------------------------------------------------
    def fit(self, data: TrainingData, *, validation: Validation | None = None, progress: bool = False) -> Self:
        if data.n_items == 0:
            raise ModelFitError(f"{self.name}: the catalogue of {data.dataset!r} is empty")
        self._data = None  # a failed refit must not leave a half-replaced model looking fitted
        self._fit(data, validation, progress)
        self._data = data
        return self

    @property
    def data(self) -> TrainingData:
        if self._data is None:
            raise NotFittedError(self.name)
        return self._data

    @property
    def fitted(self) -> bool:
        return self._data is not None

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores over all items (higher is better) for each history of dense item indices."""
        data = self.data
        if not histories:
            return np.zeros((0, data.n_items), dtype=np.float32)
        scores = np.asarray(self._score(list(histories)), dtype=np.float32)
        if scores.shape != (len(histories), data.n_items):
            raise ModelFitError(
                f"{self.name} returned scores of shape {scores.shape}, expected {(len(histories), data.n_items)}"
            )
        if not np.isfinite(scores).all():
            raise ModelFitError(
                f"{self.name} produced non-finite scores; refit it (and check its parameters {self.params})"
            )
        return scores

    def score(self, user_ids: Sequence[int]) -> np.ndarray:
        """Scores over all items for users of the training data (unknown users raise)."""
        return self.score_histories([self.data.history(int(u)) for u in user_ids])

    def recommend(self, user_id: int, k: int = 10, *, exclude_seen: bool = True) -> pl.DataFrame:
        """The top ``k`` items for a known user: ``item_id``, ``score``, ``rank``."""
        history = self.data.history(int(user_id))
        return self.recommend_for_history(history, k, exclude_seen=exclude_seen)

    def recommend_for_history(self, history: np.ndarray, k: int = 10, *, exclude_seen: bool = True) -> pl.DataFrame:
        """Top ``k`` for any history, e.g. a new user's onboarding picks."""
        check_k(k)
        scores = self.score_histories([history])[0]
        if exclude_seen and len(history):
            scores[np.asarray(history)] = -np.inf
        return self._top(scores, k)

    def similar(self, item_id: int, k: int = 10) -> pl.DataFrame:
        """Items most like ``item_id`` (for "because you watched X" rows)."""
        self._require_similar()
        check_k(k)
        index = self.data.item_index(int(item_id))
        scores = self.similar_scores(index)
        scores[index] = -np.inf
        return self._top(scores, k)

    def similar_scores(self, index: int) -> np.ndarray:
        """How like catalogue item ``index`` (a dense index) every item is, the item itself included as
        the model scores it: a fresh float32 array the caller may change."""
        self._require_similar()
        if not 0 <= index < self.data.n_items:
            raise ConfigError(f"item index {index} is outside the catalogue's {self.data.n_items} items")
        scores = np.asarray(self._similar(index), dtype=np.float32).copy()
        if scores.shape != (self.data.n_items,):
            raise ModelFitError(f"{self.name} returned {scores.shape} similarity scores for {self.data.n_items} items")
        return scores

    def has_neighbours(self, index: int) -> bool:
        """Whether ``similar_scores(index)`` knows anything of catalogue item ``index`` (a model fitted on
        part of the catalogue knows no neighbours of the rest)."""
        return self.supports_similar and self._covers(index)

    def _require_similar(self) -> None:
        if not self.supports_similar:
            raise ConfigError(f"{self.name} has no item-to-item similarity; use ease or content")

    def _top(self, scores: np.ndarray, k: int) -> pl.DataFrame:
        valid = np.flatnonzero(np.isfinite(scores))
        k = min(k, len(valid))
        best = valid[np.argpartition(-scores[valid], k - 1)[:k]] if k else valid[:0]
        best = best[np.lexsort((best, -scores[best]))]  # by score; among those kept, ties by catalogue order
        return pl.DataFrame(
            {
                S.ITEM_ID: self.data.item_ids[best],
                SCORE: scores[best].astype(np.float32),
                RANK: np.arange(1, len(best) + 1, dtype=np.int32),
            }
        )

    # -- persistence ----------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        self.data  # noqa: B018 - raises NotFittedError when unfitted
        return self._state()

    @classmethod
    def restore(cls, params: dict[str, Any], state: dict[str, np.ndarray], data: TrainingData) -> Self:
        generator = cls(**params)
        generator._restore(state, data)
        generator._data = data
        return generator

    # -- hooks ----------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None: ...

    @abstractmethod
    def _score(self, histories: list[np.ndarray]) -> np.ndarray: ...

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None: ...

    def _similar(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _covers(self, index: int) -> bool:
        return True

    def _check_params(self) -> None:  # noqa: B027 - an optional hook
        """Range checks beyond types; raise ConfigError naming the parameter."""


def _check_type(model: str, key: str, value: Any, default: Any) -> None:
    """A parameter must have its default's type (ints pass for floats; None defaults take numbers)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if default is None:
        ok, expected = value is None or number, "a number or null"
    elif isinstance(default, float):
        ok, expected = number, "a number"
    elif isinstance(default, int):
        ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(default, list):
        ok = (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        expected = "a non-empty list of numbers"
    else:
        ok, expected = isinstance(value, type(default)), f"a {type(default).__name__}"
    if not ok:
        raise ConfigError(f"{model} parameter {key} must be {expected}, got {value!r}")


def require(condition: bool, model: str, message: str) -> None:
    """Raise ConfigError("<model> parameter <message>") unless ``condition`` holds."""
    if not condition:
        raise ConfigError(f"{model} parameter {message}")


def check_k(k: int) -> None:
    if k < 1:
        raise ConfigError(f"k must be a positive number of items; got {k}")
