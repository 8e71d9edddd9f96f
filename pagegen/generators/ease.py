"""EASE (Steck 2019): a closed-form item-item model, B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹.

λ is chosen on the validation split from a grid when not given. The dense item × item matrices
make memory the limit: fitting refuses a catalogue whose matrices would not fit, instead of swapping.
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
    }
    supports_similar: ClassVar[bool] = True
    uses_validation: ClassVar[bool] = True

    def _check_params(self) -> None:
        l2, grid = self.params["l2"], self.params["l2_grid"]
        require(l2 is None or l2 > 0, self.name, f"l2 must be positive, got {l2}")
        require(all(value > 0 for value in grid), self.name, f"l2_grid values must be positive, got {grid}")
        require(self.params["default_l2"] > 0, self.name, "default_l2 must be positive")

    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None:
        _check_memory(data.n_items)
        matrix = data.matrix
        gram = _gram(matrix)
        if self.params["l2"] is not None:
            chosen = float(self.params["l2"])
        elif validation is None:
            chosen = float(self.params["default_l2"])
        else:
            scores_by_l2 = {}
            rows = histories_matrix(validation.histories, data.n_items)
            with tqdm(self.params["l2_grid"], desc="ease λ grid", unit="λ", disable=not progress) as grid:
                for l2 in grid:
                    weights = _solve(gram, float(l2))
                    scores = np.asarray(rows @ weights)
                    scores_by_l2[float(l2)] = validation_ndcg(scores, validation.histories, validation.targets)
                    grid.set_postfix(l2=f"{l2:g}", val_ndcg=f"{scores_by_l2[float(l2)]:.4f}")
            chosen = max(scores_by_l2, key=lambda l2: (scores_by_l2[l2], -l2))
            self.validation_ndcg = scores_by_l2
        self.l2 = chosen
        self.weights = _solve(gram, chosen)

    def _score(self, histories: list[np.ndarray]) -> np.ndarray:
        return np.asarray(histories_matrix(histories, self.weights.shape[0]) @ self.weights)

    def _similar(self, index: int) -> np.ndarray:
        return self.weights[index]

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "l2": np.array(self.l2)}

    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None:
        self.weights = _row_major(state["weights"])
        self.l2 = float(state["l2"])


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


def _check_memory(n_items: int) -> None:
    needed = DENSE_COPIES * n_items * n_items * 4
    available = psutil.virtual_memory().available
    if needed > 0.8 * available:
        raise ModelFitError(
            f"EASE on {n_items} items needs about {needed / 2**30:.1f} GiB for its dense item × item matrices, "
            f"but only {available / 2**30:.1f} GiB is available; use a smaller dataset or the sasrec model"
        )
