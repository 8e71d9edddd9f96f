"""EASE (Steck 2019): a closed-form item-item model, B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹.

λ is chosen on the validation split from a grid when not given. The dense item × item matrices
make memory and time the limit (5 copies of n² floats, an n³ inverse per λ): a catalogue larger than
``max_items`` is fitted on its ``max_items`` most-watched items only. The other items get no EASE score
(they rank below every fitted item) and no EASE neighbours; the popularity, trending, SASRec and content
generators still score them. Fitting refuses matrices that would not fit in memory, instead of swapping.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import psutil
import scipy.sparse as sp
import torch
from tqdm import tqdm

from pagegen.errors import ModelFitError
from pagegen.generators.base import Generator, Validation, require
from pagegen.generators.training import TrainingData, histories_matrix
from pagegen.ranking import validation_ndcg

DENSE_COPIES = 5  # Gram, its regularized copy, the Cholesky factor, the inverse, the previous grid point's B
DENSE_GRAM_BYTES = 1 << 30  # below this, XᵀX goes through BLAS on a dense X (3× faster on ml-100k)


class EASE(Generator):
    name: ClassVar[str] = "ease"
    defaults: ClassVar[dict[str, Any]] = {
        "l2": None,
        "l2_grid": [50.0, 100.0, 200.0, 400.0, 800.0, 1600.0],
        "default_l2": 250.0,
        "max_items": 10_000,  # the most-watched items fitted; 20 000 would take 8 GB and ~8× the time
        "max_validation_users": 10_000,  # users that choose λ, evenly spread (all on smaller data)
    }
    supports_similar: ClassVar[bool] = True
    uses_validation: ClassVar[bool] = True

    def _check_params(self) -> None:
        l2, grid = self.params["l2"], self.params["l2_grid"]
        require(l2 is None or l2 > 0, self.name, f"l2 must be positive, got {l2}")
        require(all(value > 0 for value in grid), self.name, f"l2_grid values must be positive, got {grid}")
        require(self.params["default_l2"] > 0, self.name, "default_l2 must be positive")
        require(
            self.params["max_items"] >= 2, self.name, f"max_items must be at least 2, got {self.params['max_items']}"
        )
        require(
            self.params["max_validation_users"] >= 1,
            self.name,
            f"max_validation_users must be at least 1, got {self.params['max_validation_users']}",
        )

    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None:
        self.fitted_items = _most_watched(data.item_counts, self.params["max_items"])
        self.n_items = data.n_items
        _check_memory(len(self.fitted_items), data.n_items)
        gram = _gram(data.matrix[:, self.fitted_items])
        if self.params["l2"] is not None:
            chosen = float(self.params["l2"])
        elif validation is None:
            chosen = float(self.params["default_l2"])
        else:
            validation = validation.spread(self.params["max_validation_users"])
            rows = self._fitted_columns(validation.histories)
            scores_by_l2 = {}
            with tqdm(self.params["l2_grid"], desc="ease λ grid", unit="λ", disable=not progress) as grid:
                for l2 in grid:
                    self.weights = _solve(gram, float(l2))
                    scores = self._expand(np.asarray(rows @ self.weights))
                    scores_by_l2[float(l2)] = validation_ndcg(scores, validation.histories, validation.targets)
                    grid.set_postfix(l2=f"{l2:g}", val_ndcg=f"{scores_by_l2[float(l2)]:.4f}")
            chosen = max(scores_by_l2, key=lambda l2: (scores_by_l2[l2], -l2))
            self.validation_ndcg = scores_by_l2
        self.l2 = chosen
        self.weights = _solve(gram, chosen)
        if self.subset:
            self.fit_note = (
                f"fitted the {len(self.fitted_items)} most-watched of {data.n_items} items (all of them would need "
                f"{_dense_bytes(data.n_items) / 2**30:.1f} GiB of dense matrices); the others get no EASE score"
            )

    @property
    def subset(self) -> bool:
        return len(self.fitted_items) < self.n_items

    def _fitted_columns(self, histories: list[np.ndarray]) -> sp.csr_matrix:
        """The histories as binary rows over the fitted items only."""
        matrix = histories_matrix(histories, self.n_items)
        return matrix[:, self.fitted_items] if self.subset else matrix

    def _expand(self, fitted_scores: np.ndarray) -> np.ndarray:
        """Scores over the fitted items → over the catalogue, every other item just below each row's lowest."""
        if not self.subset:
            return fitted_scores
        lowest = np.nextafter(fitted_scores.min(axis=1), np.float32(-np.inf)).astype(np.float32)
        scores = np.repeat(lowest[:, None], self.n_items, axis=1)
        scores[:, self.fitted_items] = fitted_scores
        return scores

    def _score(self, histories: list[np.ndarray]) -> np.ndarray:
        return self._expand(np.asarray(self._fitted_columns(histories) @ self.weights))

    def _similar(self, index: int) -> np.ndarray:
        if not self.subset:
            return self.weights[index]
        similar = np.zeros(self.n_items, dtype=np.float32)  # an item outside the fit predicts nothing
        position = self._fitted_position(index)
        if position is not None:
            similar[self.fitted_items] = self.weights[position]
        return similar

    def _covers(self, index: int) -> bool:
        return not self.subset or self._fitted_position(index) is not None

    def _fitted_position(self, index: int) -> int | None:
        """The item's row in the fitted weights, None outside the fit (a binary search: they are sorted)."""
        position = int(np.searchsorted(self.fitted_items, index))
        return position if position < len(self.fitted_items) and self.fitted_items[position] == index else None

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "l2": np.array(self.l2), "fitted_items": self.fitted_items}

    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None:
        self.weights = _row_major(state["weights"])
        self.l2 = float(state["l2"])
        self.n_items = data.n_items
        self.fitted_items = state["fitted_items"] if "fitted_items" in state else np.arange(data.n_items)


def _most_watched(counts: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` items with the most users, ascending by index; ties go to the lower index."""
    if len(counts) <= limit:
        return np.arange(len(counts))
    return np.sort(np.argsort(-np.asarray(counts), kind="stable")[:limit])


def _gram(matrix: sp.csr_matrix) -> np.ndarray:
    """XᵀX as a dense float32 matrix: through BLAS on a dense copy when that copy is small, else sparse."""
    if matrix.shape[0] * matrix.shape[1] * 4 <= DENSE_GRAM_BYTES:
        dense = matrix.toarray()
        return dense.T @ dense
    return (matrix.T @ matrix).toarray().astype(np.float32)


def _solve(gram: np.ndarray, l2: float) -> np.ndarray:
    """B = I − P·diag(1/diag P) with P = (G + λI)⁻¹, inverted through Cholesky (G + λI is positive definite)."""
    regularized = torch.from_numpy(gram.copy())
    regularized.diagonal().add_(l2)
    try:
        inverse = torch.cholesky_inverse(torch.linalg.cholesky(regularized))
    except RuntimeError as error:  # torch.linalg.LinAlgError: not positive definite
        raise ModelFitError(f"EASE could not invert XᵀX + {l2}·I ({error}); try a larger l2") from error
    inverse /= -inverse.diagonal()[None, :]
    inverse.fill_diagonal_(0.0)
    return _row_major(inverse.numpy())


def _row_major(weights: np.ndarray) -> np.ndarray:
    """The weights in C order: the LAPACK inverse comes out column-major, and scoring a sparse history
    against a column-major matrix makes scipy copy the whole matrix on every call (4 ms a user on ml-100k)."""
    return np.ascontiguousarray(weights)


def _dense_bytes(n_items: int) -> int:
    return DENSE_COPIES * n_items * n_items * 4


def _check_memory(fitted: int, catalogue: int) -> None:
    needed = _dense_bytes(fitted)
    available = psutil.virtual_memory().available
    if needed > 0.8 * available:
        of = f" (the most-watched of {catalogue})" if fitted < catalogue else ""
        raise ModelFitError(
            f"EASE on {fitted} items{of} needs about {needed / 2**30:.1f} GiB for its dense item × item matrices, "
            f"but only {available / 2**30:.1f} GiB is available; lower max_items (--set max_items=N), use a "
            "smaller dataset or the sasrec model"
        )
