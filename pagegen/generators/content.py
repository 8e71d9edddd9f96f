"""Content-based scores from item text embeddings: the cold-start generator.

Item text is title, year and genres. A user's profile is the recency-weighted mean of their history's embeddings; an item scores
its cosine similarity to it. New items need no interactions to be scored, and a new user needs only
a few picked genres or items.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl

from pagegen.data import schema as S
from pagegen.embeddings import DEFAULT_OLLAMA_EMBEDDING_MODEL, Embedder, make_embedder
from pagegen.errors import ConfigError, UnknownGenreError
from pagegen.generators.base import Generator, Validation, check_k, require
from pagegen.generators.training import TrainingData
from pagegen.progress import announce


def item_texts(catalogue: pl.DataFrame) -> list[str]:
    """``"Toy Story (1995). Genres: Animation, Children's, Comedy."``, one per item, followed by the
    item's description when `pagegen llm describe` has written one."""
    texts = []
    for row in catalogue.iter_rows(named=True):
        year = f" ({row[S.YEAR]})" if row[S.YEAR] is not None else ""
        description = f" {row['description']}" if row.get("description") else ""
        texts.append(f"{row[S.TITLE]}{year}. Genres: {', '.join(row[S.GENRES] or [])}.{description}")
    return texts


class Content(Generator):
    name: ClassVar[str] = "content"
    defaults: ClassVar[dict[str, Any]] = {
        "embedder": "minilm",  # or "ollama" (model from ollama_model, host from OLLAMA_HOST)
        "ollama_model": DEFAULT_OLLAMA_EMBEDDING_MODEL,
        "recent": 50,  # items of the history that form the profile
        "recency_half_life": 20.0,  # in items: the 20th most recent counts half as much as the last
    }
    supports_similar: ClassVar[bool] = True
    uses_item_text: ClassVar[bool] = True

    def _check_params(self) -> None:
        p = self.params
        require(
            p["embedder"] in ("minilm", "ollama"),
            self.name,
            f"embedder must be 'minilm' or 'ollama', got {p['embedder']!r}",
        )
        require(p["recent"] >= 1, self.name, f"recent must be at least 1, got {p['recent']}")
        require(p["recency_half_life"] > 0, self.name, "recency_half_life must be positive")

    def __init__(self, *, embedder_instance: Embedder | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._embedder = embedder_instance

    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None:
        embedder = self._embedder or self._make_embedder()
        announce(f"embedding {data.n_items} items with {embedder.name}", progress)
        vectors = embedder.embed(item_texts(data.catalogue), progress=progress)
        if vectors.shape[0] != data.n_items:
            raise ConfigError(f"embedder {embedder.name} returned {vectors.shape[0]} vectors for {data.n_items} items")
        self.item_vectors = vectors.astype(np.float32)
        self.embedder_name = embedder.name

    def _make_embedder(self) -> Embedder:
        kind = self.params["embedder"]
        return make_embedder(kind, model=self.params["ollama_model"]) if kind == "ollama" else make_embedder(kind)

    def _score(self, histories: list[np.ndarray]) -> np.ndarray:
        profiles = np.stack([self._profile(h) for h in histories])
        return profiles @ self.item_vectors.T

    def _profile(self, history: np.ndarray) -> np.ndarray:
        recent = np.asarray(history[-self.params["recent"] :], dtype=np.int64)
        if not len(recent):
            return np.zeros(self.item_vectors.shape[1], dtype=np.float32)
        age = np.arange(len(recent))[::-1]  # 0 for the most recent item
        weights = np.power(0.5, age / self.params["recency_half_life"])
        profile = weights @ self.item_vectors[recent]
        return (profile / (np.linalg.norm(profile) or 1.0)).astype(np.float32)

    def score_onboarding(self, genres: list[str], liked: np.ndarray) -> np.ndarray:
        """Scores for a new user from genres and items picked at onboarding; a genre the catalogue does
        not have is an UnknownGenreError (it would embed as noise and rank items of no genre first)."""
        known = sorted({g for item in self.data.catalogue[S.GENRES].to_list() for g in item} - {S.UNKNOWN_GENRE})
        unknown = [genre for genre in genres if genre not in known]
        if unknown:
            raise UnknownGenreError(unknown, known)
        parts = []
        if genres:
            embedder = self._embedder or self._make_embedder()
            parts.append(embedder.embed([f"Genres: {', '.join(genres)}."])[0])
        if len(liked):
            parts.append(self._profile(liked))
        if not parts:
            raise ConfigError("onboarding needs at least one genre or liked item")
        profile = np.mean(parts, axis=0)
        return (profile / (np.linalg.norm(profile) or 1.0)) @ self.item_vectors.T

    def top_for_onboarding(self, genres: list[str], k: int = 10, *, liked: np.ndarray | None = None) -> pl.DataFrame:
        """The ``k`` best items for a new user; liked items are not recommended back."""
        check_k(k)
        picked = np.asarray(liked if liked is not None else [], dtype=np.int64)
        scores = self.score_onboarding(genres, picked).astype(np.float32)
        scores[picked] = -np.inf
        return self._top(scores, k)

    def score_text(self, text: str) -> np.ndarray:
        """Every item's cosine similarity to ``text`` (a request), embedded as the items were."""
        embedder = self._embedder or self._make_embedder()
        return self.item_vectors @ embedder.embed([text])[0]

    def _similar(self, index: int) -> np.ndarray:
        return self.item_vectors @ self.item_vectors[index]

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_vectors": self.item_vectors, "embedder_name": np.array(self.embedder_name)}

    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None:
        self.item_vectors = state["item_vectors"]
        self.embedder_name = str(state["embedder_name"])
